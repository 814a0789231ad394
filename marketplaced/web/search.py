"""Search text folding: one spelling for the many ways a seller and a buyer write a word.

Uzum titles come in Uzbek Latin, Uzbek Cyrillic and Russian, and searchers type whichever their
keyboard has, with any of six apostrophes for `oʻ`/`gʻ`. `fold` maps all of them to one Latin
skeleton — "Qoʻl soati", "Қўл соати", "кол соати" and "qo'l soati" all become "kol soati" — and
PostgreSQL keeps the same skeleton of every title in a generated column (`search_fold()` in
sql/013_search.sql, compared with `fold` character by character in the tests). A search asks,
word by word, for a title word similar enough to each query word: word order does not matter
(each word is matched on its own), a typo costs only some trigrams, and an Uzbek suffix
("soat" → "soatlar") still matches. Whole words are compared, not prefixes ("kol" does not
find "kolbasa").

Products (millions of rows) keep their folded words in an array with a GIN index, and every
word ever seen in `search_vocabulary` with a trigram index (016_search_words.sql): a query word
is first widened to the vocabulary words similar to it (a few hundred index entries), then
products are found by exact word membership — no per-row similarity recheck, which on a common
word cost seconds. Results are ranked by how well each query word matched. Sellers (a small
table) keep one folded text with a trigram index and use pg_trgm's strict word similarity
(`<<%`, threshold 0.4 from db.SERVER_SETTINGS) directly.

The skeleton is deliberately lossy: q/қ/к are one letter, ў/oʻ/o and ғ/gʻ/g are one, the hard
and soft signs and every apostrophe vanish, "kh" (a Russian х transliterated) is x, "zh" is j
and "ye" is e (Uzbek Cyrillic е at a word start is "ye" in Latin). A few more titles match than a
strict reading would allow; a seller who searches "kol" and also sees "qoʻl" is served, one who
misses the product because of how it was spelled is not.
"""

from __future__ import annotations

import dataclasses
import math
import re
import struct
from dataclasses import dataclass

from marketplaced.web.listing import Reader, Where

__all__ = ["SearchTerms", "WordShares", "fold", "resolve", "search_terms", "word_shares"]

#: every apostrophe a Uzbek Latin text uses for oʻ, gʻ and the glottal stop: ' ` ´ ‘ ’ ʹ ʻ ʼ
APOSTROPHES = "'`\u00b4\u2018\u2019\u02b9\u02bb\u02bc"
#: Russian and Uzbek Cyrillic to the Latin skeleton (lower case; upper case is added below)
_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "x", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sh", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ў": "o", "қ": "k", "ғ": "g", "ҳ": "h",
}  # fmt: skip
#: Turkish-style letters some Uzbek Latin titles use instead of the digraphs
_LATIN_EXTRA = {"ş": "sh", "ç": "ch", "ğ": "g", "ö": "o", "ü": "u", "ı": "i"}
#: applied in this order after the letters; they must match the SQL function's replace() chain
DIGRAPHS = (("kh", "x"), ("zh", "j"), ("ye", "e"))
#: query words shorter than this match almost anything, so they rank but do not filter
MIN_TERM_LEN = 2
#: each filtering word is one more index scan; a pasted paragraph stops at this many
MAX_TERMS = 8


def _letter_table() -> dict[str, str]:
    table: dict[str, str] = {chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}
    table["q"] = "k"
    table["Q"] = "k"
    for lower, latin in (_CYRILLIC | _LATIN_EXTRA).items():
        table[lower] = latin
        table[lower.upper()] = latin
    table["İ"] = "i"  # "ı".upper() is "I", which A-Z already covers
    for mark in APOSTROPHES:
        table[mark] = ""
    return table


LETTERS: dict[str, str] = _letter_table()
_TRANSLATE = str.maketrans(LETTERS)
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """`text` as its search skeleton: lower-case Latin letters and digits, words split by one
    space. Any character outside the table and a-z/0-9 (punctuation, other scripts) separates
    words, exactly as `search_fold()` does in SQL."""
    out = text.translate(_TRANSLATE)
    for old, new in DIGRAPHS:
        out = out.replace(old, new)
    return _SEPARATORS.sub(" ", out).strip(" ")


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """A folded query: the whole skeleton (for ranking) and the words that filter; once
    `resolve`d, each word's vocabulary candidates with their similarity (best first)."""

    folded: str
    words: tuple[str, ...]
    candidates: tuple[tuple[tuple[str, float], ...], ...] | None = None
    #: resolved terms: how many products hold every word's best candidates, estimated from
    #: the word statistics of `products` as the planner does (None: no statistics yet)
    best_matches: float | None = None
    #: and how many products there are, from the same statistics
    products: float = 0.0

    def sparse(self, page_rows: int) -> bool:
        """Whether the rows of the top score are better read through the word index and
        sorted than by walking the best-selling order until the page is full. The walk reads
        about page_rows × products / matches rows, the index every match: the walk wins from
        √(page_rows × products) matches up (3 900 at 300 000 products and a page of 50). The
        planner sees the same estimate but prices a walked row ~15× cheaper than one read
        through the index (it takes the walked table as cached), so at 1.5 M products it
        walked 33 000 products for a page of two words found together in 2 500."""
        if self.best_matches is None:
            return False
        return self.best_matches < math.sqrt(page_rows * self.products)

    # -- products: by words (search_words, search_vocabulary; sql/016_search_words.sql) ------

    def filter(self, w: Where, column: str, *, best: bool = False) -> list[str]:
        """Each query word, or a vocabulary word similar to it, must be in the `column` array
        (one GIN array scan per word); returns each word's score expression. `best` (resolved
        terms only): the word's best-matching candidates only — the rows of the top score."""
        if self.candidates is not None:
            return [self._resolved(w, column, c, best) for c in self.candidates]
        candidates = []
        for word in self.words:
            mark = w.param(word)
            cand = _CANDIDATES.format(word=mark, sim=VOCABULARY_SIMILARITY, cap=MAX_CANDIDATES)
            w.parts.append(f"{column} && {cand}")
            candidates.append((mark, cand))
        return [self._word_score(column, mark, cand) for mark, cand in candidates]

    @staticmethod
    def _resolved(w: Where, column: str, cands: tuple[tuple[str, float], ...], best: bool) -> str:
        top = cands[0][1]
        match = [c for c, sim in cands if sim >= top] if best else [c for c, _ in cands]
        mark = w.param(match)
        w.parts.append(f"{column} && {mark}::text[]")
        if best:  # the condition only: its rows' score is the top score
            return ""
        # the similarities as literals (floats read from PostgreSQL's own real values, so the
        # cast gives them back exactly): a score left unused (a count) leaves no parameter
        # whose type PostgreSQL cannot tell
        sims = ", ".join(repr(float(sim)) for _, sim in cands)
        return (
            f"(SELECT coalesce(max(c.s), 0) FROM unnest({mark}::text[], "  # noqa: S608 - constant fragments, values are $n parameters
            f"ARRAY[{sims}]::real[]) AS c(w, s) WHERE c.w = ANY({column}))"
        )

    def top_score(self) -> float:
        """The score of a row holding each word's best candidate (resolved terms), summed in
        single precision as `score` sums in SQL."""
        assert self.candidates is not None
        total = 0.0
        for cands in self.candidates:
            total = _real(total + _real(cands[0][1]))
        return total

    @staticmethod
    def _word_score(column: str, mark: str, cand: str) -> str:
        return (
            f"(SELECT coalesce(max(similarity(x, {mark})), 0) FROM unnest({column}) x "  # noqa: S608 - constant fragments, values are $n parameters
            f"WHERE x = ANY({cand}::text[]))"
        )

    @staticmethod
    def score(word_scores: list[str]) -> str:
        """The ranking expression (`real`): per query word, the similarity of the best title
        word standing for it, summed — exact words first, then the closest typos."""
        return "(" + " + ".join(word_scores) + ")::real"

    # -- small tables (sellers): by trigrams of the whole text ----------------------------------

    def trigram_filter(self, w: Where, column: str) -> None:
        """Each word must be similar to some word of `column` (one GIN scan per word)."""
        for word in self.words:
            w.add(f"{{}} <<% {column}", word)

    def trigram_score(self, w: Where, column: str) -> str:
        """The ranking expression, `real` like pg_trgm's functions."""
        return f"strict_word_similarity({w.param(self.folded)}, {column})"


#: a vocabulary word stands for a query word from this pg_trgm similarity of the two words up:
#: "samsyng"/"samsung" 0.45, "telefn"/"telefon" 0.5, "soat"/"soatlar" 0.44 pass;
#: "kol"/"kolbasa" 0.33 and "telefn"/"televizor" 0.27 do not
VOCABULARY_SIMILARITY = 0.4
#: the closest vocabulary words kept per query word: a short word has many near neighbours,
#: and each one widens the index scan
MAX_CANDIDATES = 50
# `%` (similarity ≥ pg_trgm's 0.3 default) lets the trigram index find the neighbours; the
# query word itself is always a candidate. An uncorrelated subquery: computed once per query.
_CANDIDATES = (
    "(SELECT array_append(coalesce(array_agg(v.word), ARRAY[]::text[]), {word}::text) FROM ("
    "SELECT word FROM search_vocabulary WHERE word % {word}::text "
    "AND similarity(word, {word}::text) >= {sim} "
    "ORDER BY similarity(word, {word}::text) DESC, word LIMIT {cap}) v)"
)


def _real(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


# Each word's candidates in one round trip, by the rules of _CANDIDATES: known before the list
# query is planned, so the planner sees the real words (and their frequency in the GIN index's
# statistics) instead of a subquery's unknown array.
_RESOLVE = f"""
SELECT q.i, v.word, v.sim FROM unnest($1::text[]) WITH ORDINALITY AS q(w, i)
CROSS JOIN LATERAL (
    SELECT word, similarity(word, q.w) AS sim FROM search_vocabulary
    WHERE word % q.w AND similarity(word, q.w) >= {VOCABULARY_SIMILARITY}
    ORDER BY similarity(word, q.w) DESC, word LIMIT {MAX_CANDIDATES}
) v ORDER BY q.i, v.sim DESC, v.word"""  # noqa: S608 - numbers from this module

# ANALYZE's statistics of the word array: the most common words and their shares of products
# (the three entries after them are the smallest share, the largest and that of empty arrays).
_WORD_SHARES = """
SELECT s.most_common_elems::text::text[] AS words, s.most_common_elem_freqs AS shares,
    (SELECT reltuples FROM pg_class WHERE oid = 'products'::regclass) AS products
FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = 'products'
    AND s.attname = 'search_words'"""


@dataclass(frozen=True, slots=True)
class WordShares:
    """Which share of products holds a word, as the planner reads it from the statistics."""

    products: float
    shares: dict[str, float]
    #: a word not among the common ones is rarer than this; the planner takes half of it
    rarer_than: float

    def of(self, word: str) -> float:
        return self.shares.get(word, self.rarer_than / 2)


async def word_shares(db: Reader) -> WordShares | None:
    """The word statistics of `products`, None before its first ANALYZE."""
    row = await db.fetchrow(_WORD_SHARES)
    if row is None or row["words"] is None or row["shares"] is None:
        return None
    words, shares = row["words"], row["shares"]
    return WordShares(
        max(float(row["products"]), 0.0),
        dict(zip(words, map(float, shares), strict=False)),
        float(shares[len(words)]),
    )


async def resolve(db: Reader, terms: SearchTerms, shares: WordShares | None = None) -> SearchTerms:
    """`terms` with each word's candidates read from the vocabulary. The vocabulary holds every
    title word, so a word outside it matches no title: it stays its own only candidate (as the
    unresolved filter appends it) and the search finds nothing, as before. With `shares`, how
    many products hold every word's best candidates is estimated as the planner would."""
    found: dict[int, list[tuple[str, float]]] = {i: [] for i in range(len(terms.words))}
    for r in await db.fetch(_RESOLVE, list(terms.words)):
        found[r["i"] - 1].append((r["word"], float(r["sim"])))
    candidates = tuple(tuple(found[i]) or ((word, 1.0),) for i, word in enumerate(terms.words))
    if shares is None or not shares.products:
        return dataclasses.replace(terms, candidates=candidates)
    share = 1.0
    for cands in candidates:  # words independent, a word's best candidates each other's rivals
        share *= min(1.0, sum(shares.of(c) for c, sim in cands if sim >= cands[0][1]))
    return dataclasses.replace(
        terms, candidates=candidates, best_matches=shares.products * share, products=shares.products
    )


def search_terms(q: str) -> SearchTerms | None:
    """The query's terms, or None when it has no letter or digit to search for."""
    folded = fold(q)
    if not folded:
        return None
    words = folded.split(" ")
    long_words = [word for word in dict.fromkeys(words) if len(word) >= MIN_TERM_LEN]
    return SearchTerms(folded, tuple((long_words or words)[:MAX_TERMS]))
