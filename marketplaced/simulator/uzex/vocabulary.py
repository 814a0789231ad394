"""The words and reference lists UZEX lots are generated from: regions, categories, products.

``REGIONS`` and ``CATEGORIES`` are real reference rows (the trade host's ``GetRegions`` and a
slice of ``GetCategories``), served as they are and used by scanner tests to count what the
reference job stored; the rest are the small vocabularies lot items and parties are drawn from.
"""

from __future__ import annotations

REGIONS: tuple[tuple[int, str], ...] = (
    (2, "Андижанская область"),
    (242, "Бухарская область"),
    (487, "Джизакская область"),
    (679, "Кашкадарьинская область"),
    (1008, "Навоийская область"),
    (1150, "Наманганская область"),
    (3049, "Республика Каракалпакстан"),
    (1413, "Самаркандская область"),
    (1692, "Сурхандарьинская область"),
    (1977, "Сырдарьинская область"),
    (2120, "Ташкентская область"),
    (2434, "Ферганская область"),
    (2858, "Хорезмская область"),
    (2105, "город Ташкент"),
)
#: a slice of the real top-level category list (ids and names from trade_GetCategories)
CATEGORIES: tuple[tuple[int, str], ...] = (
    (106825, "Продукция и услуги сельского хозяйства и охоты"),
    (109122, "Продукты пищевые"),
    (111223, "Напитки"),
    (111494, "Текстиль и изделия текстильные"),
    (112246, "Одежда"),
    (113434, "Бумага и изделия из бумаги"),
    (113821, "Кокс и нефтепродукты"),
    (114027, "Вещества химические и продукты химические"),
    (115349, "Средства лекарственные и материалы, применяемые в медицинских целях"),
    (117359, "Изделия резиновые и пластмассовые"),
)
PRODUCTS = (
    "Принтер",
    "Бумага A4",
    "Картридж",
    "Дизельное топливо",
    "Стол офисный",
    "Кабель медный",
    "Перчатки",
    "Ноутбук",
    "Ремень двигателя",
    "Труба ПВХ 25 мм",
)
UNITS = ("шт", "компл.", "л", "м", "кг", "упак.")
COUNTRIES = ("O'zbekiston", "Boshqa")
COMPANY_WORDS = ("DREAM", "TEXNO", "SERVIS", "UNIVERSAL", "DIGITAL", "BIZNES", "TRADE", "GOLD")
PERSON_NAMES = ("KARIMOV SALOHIDDIN", "TURSUNOVA MARXABO", "BOLTABOYEVA GULMIRA", "ALIYEV RUSTAM")
DEAL_STATUSES = ("Оплачена", "Поставлена", "Ожидает оплаты")
#: the item property that names the unit of measure (always the first property)
UNIT_PROPERTY = "Единица измерения"
