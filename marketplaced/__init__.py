"""marketplaced: a self-hosted marketplace-analytics daemon for Uzum Market and UZEX."""

__version__ = "0.1.0"
