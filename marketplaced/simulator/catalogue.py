"""The simulator's seeded, deterministic Uzum catalogue: categories, sellers, products, time.

Everything here is a pure function of ``(seed, id, tick)``: whether an id holds a product, what
the product is, and how its orders, stock, prices and rating look after ``tick`` steps of
simulated time. Any id can therefore be computed alone in O(1), in any order, in any process, and
an integration test can compute exactly what a scanner should have stored (``expected``). The
static part of a product (titles, photos, the SKU matrix, base prices) is built once per id and
kept in a bounded LRU; per request only the tick-dependent fields are recomputed. Payloads follow
the recorded fixtures (``fixtures/uzum/*.json``) key for key.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from marketplaced.simulator.clock import DAY_MS, TASHKENT, UZUM_EPOCH_MS, UZUM_TICK_MS
from marketplaced.simulator.rng import GOLDEN, between, mix64, pick, stable_hash, unit

JsonDict = dict[str, Any]
#: one SKU's (charIndex, valueIndex) pairs
Combo = tuple[tuple[int, int], ...]

#: C-accelerated JSON string literal that keeps non-ASCII text as is (ensure_ascii=False)
_enc: Final = json.encoder.encode_basestring

#: every two-character base32hex string, indexed by its 10-bit value
_B32_PAIRS: Final = tuple(
    a + b for a in "0123456789abcdefghijklmnopqrstuv" for b in "0123456789abcdefghijklmnopqrstuv"
)
#: one repricing event per block of 8 ticks; a redraw keeps the old multiplier 1 time in ~6, so a
#: given SKU's price moves on ≈ 10 % of ticks
PRICE_BLOCK_TICKS: Final = 8
#: ratings re-jitter once per simulated day: they drift, they do not flicker
RATING_BLOCK_TICKS: Final = 24
#: Uzum's hard cap on SKUs per product card as seen in scrapes
MAX_SKUS: Final = 100
#: sku id = product id * 100 + k keeps SKU ids unique without any lookup (k < MAX_SKUS)
_SKU_ID_FACTOR: Final = 100
#: characteristic ids: room for the header id plus up to 19 value ids per product
_CHAR_ID_BASE: Final = 3_000_000
_CHAR_ID_FACTOR: Final = 20
#: generated category ids start above every real Uzum category id seen (≈ 17 000)
_GENERATED_CATEGORY_BASE: Final = 20_000
#: generated seller ids start near the real ones (45 582, 74 885 in the fixtures)
_SELLER_ID_BASE: Final = 40_000
_SELLER_ACCOUNT_BASE: Final = 12_000_000
#: Zipf exponent of seller sizes: the biggest seller of 60 k holds ≈ 1 % of all products
_SELLER_ZIPF: Final = 0.7
#: realistic so'm bounds for one SKU
MIN_PRICE: Final = 5_000
MAX_PRICE: Final = 20_000_000
#: Uzum Nasiya shows 12 monthly payments of price * 17 / 240 (fits all three fixture prices)
_INSTALMENT_NUM: Final = 17
_INSTALMENT_DEN: Final = 240

# salts: one per independent decision, so e.g. existence and seller choice are uncorrelated
_SALT_EXISTS: Final = 1
_SALT_STATIC: Final = 2
_SALT_LEAF: Final = 3
_SALT_SELLER: Final = 4
_SALT_PRICE: Final = 5
_SALT_RATING: Final = 6
_SALT_TREE: Final = 7
_SALT_SELLER_STATIC: Final = 8
_SALT_TIME: Final = 9


def ean13(prefix12: int) -> int:
    """Append the EAN-13 check digit (the fixtures' barcodes are EAN-13 of 1000… + sku id)."""
    digits = f"{prefix12:012d}"
    total = sum(map(int, digits[0::2])) + 3 * sum(map(int, digits[1::2]))
    return prefix12 * 10 + (10 - total % 10) % 10


def round_orders(n: int) -> int:
    """Uzum's displayed order count: floored to one significant digit (32 → 30, 717 → 700)."""
    if n < 10:
        return n
    step: int = 10 ** (len(str(n)) - 1)
    return n // step * step


def nice_price(raw: float, ends_in_990: bool) -> int:
    """Round to a shelf price: whole thousands (ten-thousands above 1 M), optionally …990."""
    p = min(MAX_PRICE, max(MIN_PRICE, raw))
    step = 1_000 if p < 1_000_000 else 10_000
    price = max(step, round(p / step) * step)
    if ends_in_990 and price - 10 >= MIN_PRICE:
        price -= 10
    return int(min(MAX_PRICE, max(MIN_PRICE, price)))


def _thousands(n: int) -> str:
    """5665 → '5 665' with the no-break space Uzum uses in payment texts."""
    return f"{n:,}".replace(",", "\xa0")


def _media_key(h1: int, h2: int) -> str:
    """A 20-character lowercase base32hex key like Uzum's photo keys ('d19qla27s4fup34akmng')."""
    bits = ((h1 << 64) | h2) & ((1 << 95) - 1)
    pairs = _B32_PAIRS
    return (
        "cd"[h1 & 1] + "".join([pairs[(bits >> shift) & 1023] for shift in range(0, 95, 10)])[:19]
    )


# --------------------------------------------------------------------------------------------
# reference tables (immutable): real top-level categories, Uzbek/Russian words for titles


@dataclass(frozen=True, slots=True)
class TopCategory:
    """A real Uzum top-level category and the vocabulary its generated subtree uses."""

    id: int
    title: str
    #: level-2 branches: (real id or None to generate one, title, adult, (uz, ru) product
    #: nouns, each of which becomes a level-3 category)
    branches: tuple[tuple[int | None, str, bool, tuple[tuple[str, str], ...]], ...]
    brands: tuple[str, ...]
    #: non-colour characteristics the SKU matrix may use: (title, values)
    variants: tuple[tuple[str, tuple[str, ...]], ...]
    #: so'm range of a typical product here (log-uniform)
    price: tuple[int, int]
    #: share of products that carry a warranty
    warranty: float = 0.0
    perishable: bool = False


_IPHONE = ("Iphone modeli", ("11", "13", "13 pro", "13 pro max", "14", "14 pro", "14 pro max",
           "15", "15 pro", "15 pro max", "16", "16 pro", "16 pro max", "17", "17 air", "17 pro",
           "17 pro max"))  # fmt: skip
_MEMORY = ("Xotira hajmi", ("32 GB", "64 GB", "128 GB", "256 GB", "512 GB", "1 TB"))
_CLOTHES = ("O'lcham", ("XS", "S", "M", "L", "XL", "2XL", "3XL", "4XL", "5XL", "6XL", "7XL"))
_SHOES = ("Oyoq kiyim o'lchami", tuple(str(n) for n in range(35, 47)))
_POWER = ("Quvvati", ("600 Vt", "800 Vt", "1000 Vt", "1200 Vt", "1500 Vt", "1800 Vt", "2000 Vt",
          "2200 Vt", "2400 Vt", "2500 Vt", "3000 Vt"))  # fmt: skip
_VOLUME = ("Hajmi", ("10 ml", "15 ml", "30 ml", "50 ml", "75 ml", "100 ml", "150 ml", "200 ml",
           "250 ml", "300 ml", "500 ml", "1 l"))  # fmt: skip
_WEIGHT = ("Og'irligi", ("100 g", "200 g", "250 g", "300 g", "400 g", "500 g", "750 g", "1 kg",
           "1,5 kg", "2 kg", "3 kg", "5 kg"))  # fmt: skip
_COUNT = ("Miqdori", ("1 dona", "2 dona", "3 dona", "5 dona", "10 dona", "12 dona", "20 dona",
          "24 dona", "30 dona", "50 dona", "60 dona", "100 dona"))  # fmt: skip
_CAR = ("Avtomobil modeli", ("Cobalt", "Nexia 3", "Spark", "Gentra", "Lacetti", "Malibu",
        "Tracker", "Onix", "Damas", "Captiva", "Equinox", "Monza"))  # fmt: skip
_AGE = ("Yoshi", ("0-6 oy", "6-12 oy", "1-2 yosh", "2-3 yosh", "3-4 yosh", "4-5 yosh", "5-6 yosh",
        "6-7 yosh", "7-8 yosh", "8-10 yosh", "10-12 yosh"))  # fmt: skip
_LANGUAGE = ("Kitob tili", ("O'zbek", "Rus", "Ingliz", "Qoraqalpoq", "Qozoq"))
_DIMENSIONS = ("O'lchami", ("40x60 sm", "50x80 sm", "60x90 sm", "80x120 sm", "100x150 sm",
               "120x180 sm", "150x200 sm", "160x230 sm", "200x300 sm", "240x340 sm"))  # fmt: skip

#: real top-level ids and titles (10020 Elektronika, 10014 Kiyim and 10012 are in recorded
#: payloads and scraper code; the other ids follow Uzum's 100xx numbering and are plausible)
_TOPS: Final[tuple[TopCategory, ...]] = (
    TopCategory(
        10020, "Elektronika",
        ((10044, "Smartfonlar va telefonlar", False,
          (("Smartfon", "Смартфон"), ("Knopkali telefon", "Кнопочный телефон"))),
         (10129, "Televizorlar va videotexnikalar", False,
          (("Televizor", "Телевизор"), ("Proyektor", "Проектор"))),
         (None, "Noutbuklar va kompyuterlar", False,
          (("Noutbuk", "Ноутбук"), ("Planshet", "Планшет"), ("Sichqoncha", "Мышь"))),
         (None, "Audiotexnika", False, (("Quloqchin", "Наушники"), ("Kolonka", "Колонка"))),
         (None, "Aqlli soatlar va gadjetlar", False,
          (("Aqlli soat", "Умные часы"), ("Powerbank", "Повербанк")))),
        ("Samsung", "Xiaomi", "Apple", "Honor", "Realme", "Tecno", "Infinix", "Lenovo", "JBL"),
        (_MEMORY,), (50_000, 20_000_000), warranty=0.6,
    ),
    TopCategory(
        10004, "Maishiy texnika",
        ((None, "Oshxona texnikasi", False,
          (("Blender", "Блендер"), ("Elektr choynak", "Электрочайник"),
           ("Mikroto'lqinli pech", "Микроволновая печь"))),
         (None, "Uy uchun texnika", False, (("Changyutgich", "Пылесос"), ("Dazmol", "Утюг"))),
         (None, "Iqlim texnikasi", False,
          (("Konditsioner", "Кондиционер"), ("Isitgich", "Обогреватель"))),
         (None, "Shaxsiy parvarish texnikasi", False,
          (("Fen", "Фен"), ("Soqol olish mashinasi", "Электробритва")))),
        ("Artel", "Samsung", "Philips", "Tefal", "Bosch", "Xiaomi", "Shivaki", "Redmond"),
        (_POWER,), (90_000, 15_000_000), warranty=0.7,
    ),
    TopCategory(
        10014, "Kiyim",
        ((None, "Ayollar kiyimi", False, (("Ko'ylak", "Платье"), ("Bluzka", "Блузка"))),
         (None, "Erkaklar kiyimi", False, (("Futbolka", "Футболка"), ("Shim", "Брюки"))),
         (None, "Bolalar kiyimi", False, (("Pijama", "Пижама"), ("Kombinezon", "Комбинезон"))),
         (None, "Ustki kiyim", False,
          (("Kurtka", "Куртка"), ("Xudi", "Худи"), ("Sviter", "Свитер")))),
        ("Zara", "LC Waikiki", "Koton", "Defacto", "Mavi", "Colin's", "Ipekyol", "Baykul"),
        (_CLOTHES,), (30_000, 1_500_000),
    ),
    TopCategory(
        10013, "Poyabzallar",
        ((None, "Ayollar poyabzali", False, (("Tufli", "Туфли"), ("Etik", "Сапоги"))),
         (None, "Erkaklar poyabzali", False, (("Krossovka", "Кроссовки"), ("Botinka", "Ботинки"))),
         (None, "Bolalar poyabzali", False, (("Sandal", "Сандалии"), ("Shippak", "Тапочки")))),
        ("Nike", "Adidas", "Puma", "Skechers", "Reebok", "Ecco", "Baykul"),
        (_SHOES,), (40_000, 2_500_000),
    ),
    TopCategory(
        10003, "Aksessuarlar",
        ((None, "Sumkalar va hamyonlar", False, (("Sumka", "Сумка"), ("Hamyon", "Кошелёк"))),
         (None, "Soatlar", False, (("Qo'l soati", "Наручные часы"),)),
         (None, "Ko'zoynaklar va kamarlar", False,
          (("Quyosh ko'zoynagi", "Солнцезащитные очки"), ("Kamar", "Ремень")))),
        ("Casio", "Guess", "Fossil", "Ray-Ban", "Tommy Hilfiger", "Baykul"),
        (_CLOTHES, _DIMENSIONS), (20_000, 3_000_000),
    ),
    TopCategory(
        10012, "Go'zallik va parvarish",
        ((None, "Yuz parvarishi", False,
          (("Krem", "Крем"), ("Yuz niqobi", "Маска для лица"), ("Loson", "Лосьон"))),
         (None, "Soch parvarishi", False, (("Shampun", "Шампунь"), ("Soch balzami", "Бальзам"))),
         (None, "Dekorativ kosmetika", False, (("Pomada", "Помада"), ("Tush", "Тушь"))),
         (None, "Parfyumeriya", False, (("Atir", "Парфюм"),))),
        ("Nivea", "L'Oreal", "Garnier", "Maybelline", "Faberlic", "Avon", "Dove"),
        (_VOLUME,), (15_000, 2_000_000),
    ),
    TopCategory(
        10009, "Salomatlik",
        ((None, "Vitaminlar va BFQ", False, (("Vitamin", "Витамины"), ("Omega-3", "Омега-3"))),
         (None, "Tibbiy asboblar", False, (("Tonometr", "Тонометр"), ("Termometr", "Термометр"))),
         (None, "Intim mahsulotlar", True, (("Lubrikant", "Лубрикант"),))),
        ("Omron", "Microlife", "Evalar", "Solgar", "Doppelherz", "Beurer"),
        (_COUNT,), (20_000, 1_500_000), warranty=0.3,
    ),
    TopCategory(
        10018, "Uy-roʻzgʻor buyumlari",
        ((None, "Oshxona anjomlari", False,
          (("Idish-tovoq to'plami", "Набор посуды"), ("Tova", "Сковорода"))),
         (None, "Uy to'qimachiligi", False,
          (("Choyshab to'plami", "Постельное бельё"), ("Parda", "Шторы"))),
         (None, "Interyer", False, (("Gilam", "Ковёр"), ("Devor soati", "Настенные часы")))),
        ("Tefal", "Luminarc", "Kukmara", "Pasabahce", "English Home", "Nurtex"),
        (_DIMENSIONS, _COUNT), (25_000, 5_000_000),
    ),
    TopCategory(
        10007, "Qurilish va ta'mirlash",
        ((None, "Asboblar", False,
          (("Drel", "Дрель"), ("Shurupovert", "Шуруповёрт"),
           ("Kalitlar to'plami", "Набор ключей"))),
         (None, "Elektr jihozlari", False, (("Lampochka", "Лампочка"), ("Uzatgich", "Удлинитель"))),
         (None, "Santexnika", False,
          (("Smesitel", "Смеситель"), ("Dush to'plami", "Душевой набор")))),
        ("Bosch", "Makita", "Dewalt", "Ingco", "Total", "Grohe"),
        (_POWER, _COUNT), (10_000, 8_000_000), warranty=0.5,
    ),
    TopCategory(
        10002, "Avtotovarlar",
        ((None, "Avtoelektronika", False,
          (("Videoregistrator", "Видеорегистратор"), ("Avtomobil zaryadlovchisi", "Автозарядка"))),
         (None, "Avtokimyo", False,
          (("Motor moyi", "Моторное масло"), ("Avtoshampun", "Автошампунь"))),
         (None, "Avtomobil aksessuarlari", False,
          (("O'rindiq g'ilofi", "Чехол на сиденье"), ("Avtomobil gilamchasi", "Автоковрик")))),
        ("70mai", "Xiaomi", "Baseus", "Ugreen", "Liqui Moly", "Hoco"),
        (_CAR,), (20_000, 4_000_000), warranty=0.4,
    ),
    TopCategory(
        10001, "Bolalar tovarlari",
        ((None, "O'yinchoqlar", False,
          (("O'yinchoq mashina", "Игрушечная машина"), ("Qo'g'irchoq", "Кукла"),
           ("Konstruktor", "Конструктор"))),
         (None, "Chaqaloqlar uchun", False, (("Taglik", "Подгузники"), ("Biberon", "Бутылочка"))),
         (None, "Maktab uchun", False, (("Ryukzak", "Рюкзак"), ("Penal", "Пенал")))),
        ("Lego", "Barbie", "Hot Wheels", "Pampers", "Huggies", "Chicco"),
        (_AGE, _COUNT), (15_000, 3_000_000),
    ),
    TopCategory(
        10015, "Xobbi va ijod",
        ((None, "Chizish va rassomlik", False,
          (("Bo'yoqlar to'plami", "Набор красок"), ("Mo'yqalam", "Кисть"),
           ("Molbert", "Мольберт"))),
         (None, "Tikuvchilik", False, (("Ip", "Пряжа"), ("Tikuv to'plami", "Набор для шитья")))),
        ("Faber-Castell", "Maped", "Koh-i-Noor", "Sonnet", "Pebeo"),
        (_COUNT,), (8_000, 1_000_000),
    ),
    TopCategory(
        10016, "Sport va hordiq",
        ((None, "Fitnes", False, (("Gantel", "Гантели"), ("Yoga gilamchasi", "Коврик для йоги"))),
         (None, "Turizm", False, (("Chodir", "Палатка"), ("Uxlash xaltasi", "Спальный мешок"))),
         (None, "Velosipedlar va samokatlar", False,
          (("Velosiped", "Велосипед"), ("Samokat", "Самокат"))),
         (None, "Sport o'yinlari", False, (("To'p", "Мяч"),))),
        ("Nike", "Adidas", "Decathlon", "Stels", "Torres", "Kettler"),
        (_WEIGHT, _CLOTHES), (20_000, 6_000_000), warranty=0.2,
    ),
    TopCategory(
        10005, "Oziq-ovqat mahsulotlari",
        ((None, "Shirinliklar", False, (("Shokolad", "Шоколад"), ("Pechenye", "Печенье"))),
         (None, "Choy va qahva", False, (("Choy", "Чай"), ("Qahva", "Кофе"))),
         (None, "Bakaleya", False, (("Guruch", "Рис"), ("Yong'oq", "Орехи")))),
        ("Nestle", "Jacobs", "Ahmad Tea", "Lipton", "Roshen", "Alpen Gold"),
        (_WEIGHT,), (5_000, 600_000), perishable=True,
    ),
    TopCategory(
        10019, "Maishiy kimyoviy moddalar",
        ((None, "Kir yuvish vositalari", False,
          (("Kir yuvish kukuni", "Стиральный порошок"), ("Kir yuvish geli", "Гель для стирки"))),
         (None, "Tozalash vositalari", False,
          (("Idish yuvish vositasi", "Средство для посуды"),
           ("Oyna tozalagich", "Средство для стёкол")))),
        ("Ariel", "Tide", "Persil", "Fairy", "Domestos", "Mr. Proper"),
        (_VOLUME, _WEIGHT), (8_000, 400_000),
    ),
    TopCategory(
        10011, "Kanselyariya tovarlari",
        ((None, "Yozuv buyumlari", False, (("Ruchka", "Ручка"), ("Qalam", "Карандаш"))),
         (None, "Qog'oz mahsulotlari", False, (("Daftar", "Тетрадь"), ("Papka", "Папка")))),
        ("Erich Krause", "Pilot", "Bic", "Berlingo", "Hatber"),
        (_COUNT,), (5_000, 300_000),
    ),
    TopCategory(
        10017, "Hayvonlar uchun tovarlar",
        ((None, "Mushuklar uchun", False,
          (("Mushuk ozuqasi", "Корм для кошек"), ("Mushuk lotogi", "Лоток"))),
         (None, "Itlar uchun", False,
          (("It ozuqasi", "Корм для собак"), ("Bo'yinbog'", "Ошейник")))),
        ("Royal Canin", "Whiskas", "Pedigree", "Purina", "Felix"),
        (_WEIGHT,), (10_000, 1_200_000),
    ),
    TopCategory(
        10006, "Kitoblar",
        ((None, "Badiiy adabiyot", False,
          (("Roman", "Роман"), ("Hikoyalar to'plami", "Сборник рассказов"))),
         (None, "O'quv adabiyoti", False, (("Darslik", "Учебник"), ("Lug'at", "Словарь")))),
        ("Asaxiy Books", "Yangi asr avlodi", "Sharq", "Akademnashr", "Nihol"),
        (_LANGUAGE,), (15_000, 400_000),
    ),
)  # fmt: skip

#: nouns whose cards vary by something more specific than their top category's variants
_NOUN_VARIANTS: Final[Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]] = MappingProxyType(
    {"G'ilof": (_IPHONE,), "Kronshteyn": (_DIMENSIONS,)}
)

#: chains recorded in the fixtures, kept with their real ids: (top→leaf (id, title)), leaf noun
_KNOWN_CHAINS: Final = (
    (((10020, "Elektronika"), (10044, "Smartfonlar va telefonlar"),
      (10398, "Smartfonlar uchun aksessuarlar"), (11937, "Qoplamalar")), ("G'ilof", "Чехол")),
    (((10020, "Elektronika"), (10129, "Televizorlar va videotexnikalar"),
      (11384, "Televizor uchun stend va kronshteynlar"), (11587, "Televizor uchun kronshteynlar")),
     ("Kronshteyn", "Кронштейн")),
)  # fmt: skip

_QUALIFIERS: Final = ("Premium", "Arzon", "Universal", "Professional", "Bolalar uchun", "Sovg'abop")

#: (id, title, hex) — the first seven are the fixture's real colour ids
_COLOURS: Final = (
    (-1, "Qora", "#000000"), (-2, "Oq", "#ffffff"), (-3, "Kulrang", "#999a9c"),
    (-4, "Kumush rang", "#d5d6d8"), (-125, "Koʻk", "#0549be"), (-18, "Sabzirang", "#f16311"),
    (-133, "Tilla", "#d3c64f"), (-5, "Qizil", "#e21e26"), (-6, "Yashil", "#1f9d55"),
    (-7, "Pushti", "#f5a3c7"), (-8, "Sariq", "#ffd600"), (-9, "Jigarrang", "#7b4a2d"),
    (-10, "Binafsha", "#7d3cbd"), (-11, "Havorang", "#7fc8f8"), (-12, "Bej", "#e8d8b8"),
)  # fmt: skip

_VIDEO_BASE: Final = "https://storage.yandexcloud.net/um-prod-videos/videos/"
_MODEL_TAILS: Final = ("", "", "", " Pro", " Max", " Lite", " Plus", "s")
_FEATURES: Final = (
    ("", ""), ("", ""), (", original", ", оригинал"), (", 2025-yil modeli", ", модель 2025 года"),
    (", kafolat bilan", ", с гарантией"), (", sovg'a uchun", ", в подарок"),
    (", yangi kolleksiya", ", новая коллекция"),
)  # fmt: skip
_SELLER_NAMES: Final = (
    "Aeris", "Premium", "Tech", "Smart", "Baraka", "Orzu", "Nur", "Mega", "Star", "Zamon",
    "Hamkor", "Ideal", "Lux", "Sifat", "Diyor", "Asia", "Silk", "Oltin", "Bahor", "Imkon",
    "Kamalak", "Yulduz", "Mehr", "Navo", "Saodat", "Tumaris", "Zilol", "Afrosiyob",
)  # fmt: skip
_SELLER_SUFFIXES: Final = ("", ".uz", " Store", " Market", " Shop", "_official", " Trade",
                           " Savdo", " Home", " Mall")  # fmt: skip
_SELLER_DESCRIPTIONS: Final = (
    "Sifatli mahsulotlar hamyonbop narxlarda.",
    "Hayotingizning qulayligi uchun aksessuarlar.",
    "Rasmiy distribyutor. Barcha mahsulotlar kafolatlangan.",
    "Toshkentdagi omborimizdan tez yetkazib beramiz.",
    "Oilaviy biznes, 2019-yildan beri.",
    "22",
)
_DESCRIPTION_LINES: Final = (
    "✓ Yuqori sifatli materiallardan tayyorlangan {noun}.",
    "Kundalik foydalanish uchun qulay va ishonchli.",
    "Zamonaviy dizayn va mustahkam korpus.",
    "✓ Ishlab chiqaruvchidan rasmiy kafolat.",
    "Toshkent bo‘ylab tez yetkazib berish.",
    "✨ Sovg‘a uchun ajoyib tanlov.",
    "Qadoqda: {noun}, foydalanish yo‘riqnomasi.",
    "Ixcham va yengil — o‘zingiz bilan olib yurish oson.",
    "Mahsulot sertifikatlangan & sifat nazoratidan o‘tgan.",
)
_FEEDBACK: Final = (
    ("qulay\n", "", "Hozircha yomonmas"),
    ("Sifati zo'r", "", "Tavsiya qilaman, tez yetkazib berishdi."),
    ("Чехол супер !!!", "", "Рекомендую!!! Спасибо продавцу за качественный товар !!!"),
    ("Narxi arzon", "Qadog'i yirtilgan edi", "Umuman olganda yaxshi."),
    ("", "", "Всё соответствует описанию."),
)
_CUSTOMERS: Final = ("Asadbek", "Dilnoza", "Екатерина", "Jasur", "Madina", "Sardor", "Ольга",
                     "Nodira", "Bekzod", "Aziza")  # fmt: skip
#: the BottomTextBadge shape of Uzum's catalogue cards
_BADGES: Final = (
    (("id", 129), ("text", "Chilla Bozor"), ("textColor", "#FFFFFF"),
     ("backgroundColor", "#9A72F2"), ("description", None), ("link", None)),
    (("id", 7), ("text", "Original"), ("textColor", "#FFFFFF"),
     ("backgroundColor", "#7000FF"), ("description", None), ("link", None)),
)  # fmt: skip
#: 1.0 twice as likely: a redraw often returns to the list price
#: relative prices of a card's variants (e.g. a bigger size); 1.0 most common
_VARIANT_PRICE_STEPS: Final = (0.5, 0.8, 1.0, 1.0, 1.0, 1.2, 1.5)
#: Uzum warehouse 70 %, seller warehouse 25 %, seller delivery 5 %
_STOCK_TYPES: Final = ("FBO",) * 14 + ("FBS",) * 5 + ("DBS",)
_PRICE_MULTIPLIERS: Final = (1.0, 1.0, 0.85, 0.9, 0.95, 1.05, 1.1, 1.15)
_UZ_MONTHS: Final = ("yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avgust",
                     "sentabr", "oktabr", "noyabr", "dekabr")  # fmt: skip


def _delivery(now_ms: int, days: int) -> tuple[int, str]:
    """(deliveryDate ms, deliveryTitle as a JSON literal) for an order placed at ``now_ms``."""
    at_ms = now_ms + days * DAY_MS
    day = datetime.fromtimestamp(at_ms // 1000, UTC) + TASHKENT
    return at_ms, _enc(f"{day.day}-{_UZ_MONTHS[day.month - 1]} orasida yetkazamiz")


def _fast_delivery(stock_type: str, days: int) -> JsonDict:
    """The fastDeliveryInfo block: Uzum's warehouse (FBO) or the seller's (FBS/DBS)."""
    if stock_type == "FBO":
        return {
            "title": "Yetkazib berish\xa01\xa0kundan boshlab",
            "badge": {"text": "Uzum Market ombori", "color": "#7000FF"},
        }
    text = "Sotuvchi ombori" if stock_type == "FBS" else "Sotuvchi yetkazib beradi"
    return {
        "title": f"Yetkazib berish\xa0{days}\xa0kun ichida",
        "badge": {"text": text, "color": "#5CA3FF"},
    }


# --------------------------------------------------------------------------------------------
# categories


@dataclass(frozen=True, slots=True)
class Category:
    """One node of the category tree."""

    id: int
    title: str
    parent_id: int | None
    path: tuple[int, ...]  # ids from the top-level category down to this one
    adult: bool
    product_amount: int
    children: tuple[int, ...]
    noun: tuple[str, str] | None  # (uz, ru) product noun, set on leaves


@dataclass(slots=True)
class _NodeDraft:
    id: int
    title: str
    parent_id: int | None
    adult: bool
    noun: tuple[str, str] | None
    children: list[int]


def _plural(noun: str) -> str:
    return noun + "lar"


def _build_tree(seed: int, expected_products: float) -> dict[int, Category]:
    """Real top-level categories with seeded 2–3-level subtrees; product amounts are expected
    counts (products pick a leaf uniformly)."""
    ids = iter(range(_GENERATED_CATEGORY_BASE, 1 << 31))
    drafts: dict[int, _NodeDraft] = {}

    def add(
        cid: int | None, title: str, parent: int | None, adult: bool, noun: tuple[str, str] | None
    ) -> int:
        node_id = next(ids) if cid is None else cid
        drafts[node_id] = _NodeDraft(node_id, title, parent, adult, noun, [])
        if parent is not None:
            drafts[parent].children.append(node_id)
        return node_id

    for top in _TOPS:
        rng = random.Random(stable_hash(seed, _SALT_TREE, top.id))
        add(top.id, top.title, None, False, None)
        fixed = [b for b in top.branches if b[0] is not None]
        free = [b for b in top.branches if b[0] is None]
        # every top keeps its real branches plus a seeded selection of the generated ones
        chosen = fixed + rng.sample(free, k=between(rng, min(1, len(free)), len(free)))
        for branch_id, title, adult, nouns in chosen:
            branch = add(branch_id, title, top.id, adult, None)
            for noun in nouns:
                leaf = add(None, _plural(noun[0]), branch, adult, noun)
                if rng.random() < 0.3:  # ≈ a third of level-3 nodes split into level-4 leaves
                    drafts[leaf].noun = None
                    for qualifier in rng.sample(_QUALIFIERS, k=2):
                        add(None, f"{qualifier} {_plural(noun[0]).lower()}", leaf, adult, noun)
    for chain, noun in _KNOWN_CHAINS:
        parent = chain[0][0]
        for cid, title in chain[1:]:
            if cid not in drafts:
                add(cid, title, parent, False, None)
            parent = cid
        drafts[parent].noun = noun

    leaves = [d for d in drafts.values() if not d.children]
    per_leaf = expected_products / max(1, len(leaves))
    amounts: dict[int, int] = {}

    def amount(node_id: int) -> int:
        node = drafts[node_id]
        total = round(per_leaf) if not node.children else sum(amount(c) for c in node.children)
        amounts[node_id] = total
        return total

    def path(node_id: int) -> tuple[int, ...]:
        parent = drafts[node_id].parent_id
        return (node_id,) if parent is None else (*path(parent), node_id)

    for top in _TOPS:
        amount(top.id)
    return {
        d.id: Category(
            d.id,
            d.title,
            d.parent_id,
            path(d.id),
            d.adult,
            amounts[d.id],
            tuple(d.children),
            d.noun,
        )
        for d in drafts.values()
    }


# --------------------------------------------------------------------------------------------
# JSON templates: the hot path formats pre-built JSON text instead of building and encoding
# dicts, which is what lets one core serve thousands of products a second


def _js(value: Any) -> str:
    """Compact JSON text, non-ASCII kept: the encoding every Uzum body uses."""
    if value is None:  # most optional fields: skip the encoder
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _slot(name: str) -> str:
    return f"@@{name}@@"


def _template(sample: Any) -> str:
    """JSON text of ``sample`` with each ``@@name@@`` marker turned into a ``%(name)s`` slot.

    A marker that is a whole JSON value (``"@@x@@"``) takes pre-encoded JSON; one inside a
    string takes raw text (used only for digits).
    """
    text = _js(sample).replace("%", "%%")
    text = re.sub(r'"@@(\w+)@@"', r"%(\1)s", text)
    return re.sub(r"@@(\w+)@@", r"%(\1)s", text)


_PHOTO_TEMPLATE: Final = _template(
    {
        "photo": {
            size: {
                "high": f"https://images.uzum.uz/@@key@@/{high}.jpg",
                "low": f"https://images.uzum.uz/@@key@@/{low}.jpg",
            }
            for size, high, low in (
                ("800", "original", "t_product_low"),
                ("720", "original", "t_product_low"),
                ("480", "t_product_540_high", "t_product_540_low"),
                ("240", "t_product_240_high", "t_product_240_low"),
                ("80", "t_product_80_high", "t_product_80_low"),
                ("24034", "t_product_240_high", "t_product_240_low"),
                ("120", "t_product_240_high", "t_product_240_low"),
                ("540", "t_product_540_high", "t_product_540_low"),
                ("60", "t_product_80_high", "t_product_80_low"),
            )
        },
        "photoKey": _slot("quoted_key"),
        "color": None,
        "hasVerticalPhoto": False,
    }
)

_SKU_TEMPLATE: Final = _template(
    {
        "id": _slot("id"),
        "characteristics": _slot("refs"),
        "availableAmount": _slot("available"),
        "fullPrice": _slot("full"),
        "charityProfit": 0,
        "purchasePrice": _slot("purchase"),
        "barcode": _slot("barcode"),
        "address": None,
        "offer": None,
        "discountBadge": None,
        "installment": None,
        "productOptionDtos": [
            {
                "optionId": 1,
                "text": "Рассрочка Uzum Nasiya",
                "type": "UZUM_INSTALLMENT",
                "paymentInfo": "Oyiga @@per_month_text@@ so‘mdan muddatli tolov",
                "paymentPerMonth": _slot("per_month"),
                "period": 12,
                "active": True,
            }
        ],
        "vat": {"type": "VAT0", "vatAmount": 0, "price": _slot("purchase"), "vatRate": 0},
        "circularPhotosList": [],
        "videoUrl": _slot("video"),
        "restriction": None,
        "stock": {
            "type": _slot("stock_type"),
            "deliveryDays": _slot("days"),
            "deliveryTitle": _slot("delivery_title"),
            "deliveryDate": _slot("delivery_date"),
        },
        "discount": None,
        "fastDeliveryInfo": _slot("fast_delivery"),
        "oversized": False,
    }
)

_SELLER_TEMPLATE: Final = _template(
    {
        "id": _slot("id"),
        "title": _slot("title"),
        "link": _slot("link"),
        "banner": None,
        "avatar": None,
        "description": _slot("description"),
        "hasCharityProducts": False,
        "registrationDate": _slot("registration"),
        "rating": _slot("rating"),
        "reviews": _slot("reviews"),
        "orders": _slot("orders"),
        "official": _slot("official"),
        "contacts": [],
        "categories": [],
        "currentCategory": None,
        "filters": [],
        "appliedFilters": [],
        "priceFilter": None,
        "totalProducts": _slot("total"),
        "parents": [],
        "products": [],
        "sellerAccountId": _slot("account"),
        "info": None,
    }
)

_PRODUCT_TEMPLATE: Final = _template(
    {
        "payload": {
            "data": {
                "id": _slot("id"),
                "title": _slot("title"),
                "localizableTitle": {"uz": _slot("title"), "ru": _slot("title_ru")},
                "category": _slot("category"),
                "rating": _slot("rating"),
                "reviewsAmount": _slot("reviews"),
                "ordersAmount": _slot("orders"),
                "rOrdersAmount": _slot("r_orders"),
                "totalAvailableAmount": _slot("total"),
                "charityCommission": 0,
                "description": _slot("description"),
                "comments": [],
                "attributes": _slot("attributes"),
                "tags": _slot("tags"),
                "synonyms": [],
                "photos": _slot("photos"),
                "video": _slot("video"),
                "hasCircularPhotos": False,
                "circularPhotosList": [],
                "characteristics": _slot("characteristics"),
                "productOptionDtos": [],
                "skuList": _slot("skus"),
                "seller": _slot("seller"),
                "topFeedback": _slot("feedback"),
                "isEco": False,
                "isPerishable": _slot("perishable"),
                "hasVerticalPhoto": True,
                "showKitty": False,
                "bonusProduct": False,
                "badges": _slot("badges"),
                "volumeDiscount": None,
                "disclaimer": None,
                "fastDeliveryInfo": _slot("fast_delivery"),
                "returnsInfo": {"link": "https://uzum.uz/uz/faq#onlayn-tolovni-qaytarish"},
                "originality": {"isOriginal": _slot("original")},
                "warranty": _slot("warranty"),
                "colorPhotoPreview": _slot("color_preview"),
                "adultCategory": _slot("adult"),
                "favourite": False,
            },
            "seo": {
                "uzTitle": _slot("title"),
                "ruTitle": _slot("title_ru"),
                "characteristics": _slot("characteristics"),
                "sellerTitle": _slot("seller_title"),
                "rating": _slot("rating"),
                "reviewsAmount": _slot("reviews"),
                "skuList": _slot("skus"),
                "photos": _slot("photos"),
            },
        },
        "timestamp": _slot("timestamp"),
    }
)


def _refs_json(combo: Combo) -> str:
    pairs = ",".join(f'{{"charIndex":{ci},"valueIndex":{vi}}}' for ci, vi in combo)
    return f"[{pairs}]"


def _label(chars: tuple[tuple[str, tuple[str, ...]], ...], refs_json: str) -> str:
    """Decode a SKU's characteristics: "Rang: Koʻk, Iphone modeli: 15 pro"."""
    refs = json.loads(refs_json)
    return ", ".join(
        f"{chars[r['charIndex']][0]}: {chars[r['charIndex']][1][r['valueIndex']]}" for r in refs
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------------------------
# sellers


@dataclass(frozen=True, slots=True)
class Seller:
    """A seller's static facts; its review and order counters grow with ticks."""

    index: int
    id: int
    title: str
    link: str
    description: str
    registration_ms: int
    rating: float
    reviews: int
    orders: int
    orders_per_tick: float
    official: bool
    account_id: int

    def counters(self, tick: int) -> tuple[int, int]:
        """(reviews, orders) after ``tick`` ticks."""
        orders = self.orders + int(self.orders_per_tick * tick)
        return self.reviews + (orders - self.orders) // 20, orders

    def json(self, tick: int, total_products: int = 0) -> str:
        """The seller object as JSON: embedded in a product (totalProducts 0) or /api/shop."""
        reviews, orders = self.counters(tick)
        return _SELLER_TEMPLATE % {
            "id": self.id,
            "title": _enc(self.title),
            "link": _enc(self.link),
            "description": _enc(self.description),
            "registration": self.registration_ms,
            "rating": self.rating,
            "reviews": reviews,
            "orders": orders,
            "official": _bool(self.official),
            "total": total_products,
            "account": self.account_id,
        }


# --------------------------------------------------------------------------------------------
# products


class _Sku(NamedTuple):
    id: int
    refs_json: str  # [{"charIndex", "valueIndex"}]: kept only as JSON to save memory
    purchase: int  # base selling price, so'm
    full: int  # base crossed-out price, so'm
    stock_type: str
    delivery_days: int
    fast_delivery_json: str
    capacity: int  # stock right after a restock
    sales_per_tick: float
    restock_period: int
    restock_phase: int
    barcode: int
    video_json: str


@dataclass(frozen=True, slots=True)
class _Product:
    """The tick-independent part of a product; JSON-valued fields hold encoded JSON text."""

    id: int
    title_uz: str
    title_ru: str
    leaf: Category
    seller: Seller
    description_json: str
    attributes_json: str
    tags_json: str
    photo_keys: tuple[str, ...]
    video_json: str
    #: (title, value titles) per characteristic, to decode SKU labels
    chars: tuple[tuple[str, tuple[str, ...]], ...]
    chars_json: str
    skus: tuple[_Sku, ...]
    ends_in_990: bool
    base_orders: int
    orders_per_tick: float
    orders_phase: float
    base_reviews: int
    reviews_per_order: float
    base_rating: float
    feedback_json: str
    badges_json: str
    warranty_json: str
    fast_delivery_json: str
    perishable: bool


@dataclass(frozen=True, slots=True)
class ExpectedCategory:
    id: int
    title: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class ExpectedSku:
    id: int
    purchase_price: int
    full_price: int
    available_amount: int
    #: "Rang: Koʻk, Iphone modeli: 15 pro" in charIndex order ("" when none)
    characteristics: str
    barcode: int
    stock_type: str


@dataclass(frozen=True, slots=True)
class ExpectedProduct:
    """What a scanner should store for one product at one tick."""

    id: int
    title: str
    title_uz: str
    title_ru: str
    category_id: int
    #: the chain from the top-level category down to the leaf
    categories: tuple[ExpectedCategory, ...]
    seller_id: int
    seller_link: str
    orders: int
    r_orders: int
    reviews: int
    rating: float
    total_available: int
    skus: tuple[ExpectedSku, ...]


class _State(NamedTuple):
    """The tick-dependent numbers of one product."""

    orders: int
    reviews: int
    rating: float
    prices: list[tuple[int, int]]  # (purchase, full) per SKU
    stock: list[int]


def _sku_count(rng: random.Random) -> int:
    """Most cards have 1–6 SKUs, a few are large colour × size matrices up to MAX_SKUS."""
    u = rng.random()
    if u < 0.55:
        return 1
    if u < 0.85:
        return between(rng, 2, 6)
    if u < 0.97:
        return between(rng, 7, 30)
    return between(rng, 31, MAX_SKUS)


class UzumCatalogue:
    """A deterministic fake of Uzum's catalogue for ids 1..n_ids (see the module docstring).

    ``hit_rate`` is the share of ids that hold a product; ``static_cache`` bounds the LRU of
    static product parts (≈ 6 KB each, so the default costs ≈ 120 MB when full);
    ``bytes_cache`` bounds the LRU of encoded bodies per (id, tick), which retries hit.
    """

    def __init__(
        self,
        seed: int,
        n_ids: int,
        hit_rate: float = 0.7,
        *,
        static_cache: int = 20_000,
        bytes_cache: int = 256,
    ) -> None:
        if n_ids < 1:
            raise ValueError(f"n_ids must be at least 1, got {n_ids}")
        if not 0.0 < hit_rate <= 1.0:
            raise ValueError(f"hit_rate must be in (0, 1], got {hit_rate}")
        self.seed = seed
        self.n_ids = n_ids
        self.hit_rate = hit_rate
        self._k_exists = stable_hash(seed, _SALT_EXISTS)
        self._k_static = stable_hash(seed, _SALT_STATIC)
        self._k_leaf = stable_hash(seed, _SALT_LEAF)
        self._k_seller = stable_hash(seed, _SALT_SELLER)
        self._k_price = stable_hash(seed, _SALT_PRICE)
        self._k_rating = stable_hash(seed, _SALT_RATING)
        self._k_time = stable_hash(seed, _SALT_TIME)
        self._tops = {top.id: top for top in _TOPS}
        self.categories = _build_tree(seed, n_ids * hit_rate)
        self._leaves = sorted(c.id for c in self.categories.values() if not c.children)
        self._chain_json = {leaf: _js(self._chain(leaf)) for leaf in self._leaves}
        self._fast_delivery_json = {
            (kind, days): _js(_fast_delivery(kind, days))
            for kind in ("FBO", "FBS", "DBS")
            for days in range(1, 11)
        }
        self.n_sellers = max(5, n_ids // 50)  # ≈ 35 products per seller at a 70 % hit rate
        weights = (1.0 / (i + 1) ** _SELLER_ZIPF for i in range(self.n_sellers))
        self._seller_cum = list(itertools.accumulate(weights))
        self._seller_counts: list[int] | None = None
        self._highest: int | None = None
        self._static: Callable[[int], _Product | None] = functools.lru_cache(static_cache)(
            self._build_product
        )
        # sellers are few and small: cache (nearly) all of them
        self.seller: Callable[[int], Seller] = functools.lru_cache(65_536)(self._build_seller)
        self._bytes: Callable[[int, int], bytes | None] = functools.lru_cache(bytes_cache)(
            self._encode
        )

    # ---- existence ---------------------------------------------------------------------------

    def exists(self, product_id: int) -> bool:
        """Whether ``product_id`` holds a product (decided per id, O(1))."""
        if not 1 <= product_id <= self.n_ids:
            return False
        return unit(mix64(self._k_exists + product_id * GOLDEN)) < self.hit_rate

    @property
    def highest_id(self) -> int:
        """The largest existing id ≤ n_ids (0 if none)."""
        if self._highest is None:
            pid = self.n_ids
            while pid > 0 and not self.exists(pid):
                pid -= 1
            self._highest = pid
        return self._highest

    # ---- categories --------------------------------------------------------------------------

    def _chain(self, category_id: int) -> JsonDict:
        cat = self.categories[category_id]
        return {
            "id": cat.id,
            "title": cat.title,
            "productAmount": cat.product_amount,
            "parent": None if cat.parent_id is None else self._chain(cat.parent_id),
        }

    def category_node(self, category_id: int) -> JsonDict:
        """A category in the root-categories shape, with its whole subtree."""
        cat = self.categories[category_id]
        return {
            "id": cat.id,
            "title": cat.title,
            "productAmount": cat.product_amount,
            "adult": cat.adult,
            "eco": False,
            "children": [self.category_node(c) for c in cat.children],
            "path": list(cat.path),
        }

    def root_categories_payload(self) -> JsonDict:
        """``GET /api/main/root-categories?eco=false``."""
        return {"payload": [self.category_node(top.id) for top in _TOPS]}

    def category_payload(self, category_id: int) -> JsonDict | None:
        """``GET /api/category/v2/{id}`` (shape used by public clients: payload.category)."""
        if category_id not in self.categories:
            return None
        return {"payload": {"category": self.category_node(category_id)}}

    # ---- sellers -----------------------------------------------------------------------------

    def _seller_index(self, product_id: int) -> int:
        u = unit(mix64(self._k_seller + product_id * GOLDEN)) * self._seller_cum[-1]
        return min(bisect.bisect_right(self._seller_cum, u), self.n_sellers - 1)

    def _build_seller(self, index: int) -> Seller:
        rng = random.Random(stable_hash(self.seed, _SALT_SELLER_STATIC, index))
        name = pick(rng, _SELLER_NAMES) + pick(rng, _SELLER_SUFFIXES)
        slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())
        orders = int(math.exp(rng.uniform(2.0, 11.0)))  # tens to tens of thousands
        return Seller(
            index=index,
            id=_SELLER_ID_BASE + index,
            title=name,
            link=f"{slug}{index}",  # the index suffix keeps links unique and reversible
            description=pick(rng, _SELLER_DESCRIPTIONS),
            # registered between 2021-01-01 and the simulation epoch
            registration_ms=rng.randrange(1_609_459_200_000, UZUM_EPOCH_MS),
            rating=round(rng.uniform(4.0, 5.0), 1),
            reviews=orders // between(rng, 3, 30),
            orders=orders,
            orders_per_tick=orders / rng.uniform(2_000, 20_000),
            official=rng.random() < 0.05,
            account_id=_SELLER_ACCOUNT_BASE + index,
        )

    def seller_by_link(self, link: str) -> Seller | None:
        digits = len(link) - len(link.rstrip("0123456789"))
        if digits == 0 or digits == len(link):
            return None
        index = int(link[-digits:])
        if index >= self.n_sellers:
            return None
        seller = self.seller(index)
        return seller if seller.link == link else None

    def seller_product_count(self, index: int) -> int:
        """Exact number of products of a seller (one pass over all ids on first use)."""
        if self._seller_counts is None:
            counts = [0] * self.n_sellers
            for pid in range(1, self.n_ids + 1):
                if self.exists(pid):
                    counts[self._seller_index(pid)] += 1
            self._seller_counts = counts
        return self._seller_counts[index]

    def shop_bytes(self, link: str, tick: int) -> bytes | None:
        """``GET /api/shop/{link}`` body: the seller object with its real totalProducts."""
        seller = self.seller_by_link(link)
        if seller is None:
            return None
        total = self.seller_product_count(seller.index)
        return ('{"payload":' + seller.json(tick, total) + "}").encode()

    def shop_payload(self, link: str, tick: int) -> JsonDict | None:
        """``GET /api/shop/{link}`` decoded, or None for an unknown link."""
        body = self.shop_bytes(link, tick)
        return None if body is None else dict(json.loads(body))

    # ---- static product ----------------------------------------------------------------------

    def _build_product(self, pid: int) -> _Product | None:
        if not self.exists(pid):
            return None
        rng = random.Random(mix64(self._k_static + pid * GOLDEN))
        leaf_index = mix64(self._k_leaf + pid * GOLDEN) % len(self._leaves)
        leaf = self.categories[self._leaves[leaf_index]]
        top = self._tops[leaf.path[0]]
        noun_uz, noun_ru = leaf.noun or ("Mahsulot", "Товар")
        brand = pick(rng, top.brands)
        model = f"{pick(rng, 'ABCDEFGHKMPRSTVXZ')}{between(rng, 1, 99)}{pick(rng, _MODEL_TAILS)}"
        feat_uz, feat_ru = pick(rng, _FEATURES)
        chars, combos = self._characteristics(pid, rng, top, noun_uz, _sku_count(rng))
        video = None
        if rng.random() < 0.15:  # about one card in seven has a video
            video = (
                f"{_VIDEO_BASE}{_media_key(rng.getrandbits(64), rng.getrandbits(64))}/original.mp4"
            )
        base_price = math.exp(rng.uniform(math.log(top.price[0]), math.log(top.price[1])))
        skus = self._skus(pid, rng, chars, combos, base_price, video is not None)
        base_orders = 0 if rng.random() < 0.1 else int(math.exp(rng.random() ** 2 * 9.5)) - 1
        reviews_per_order = rng.uniform(0.02, 0.12)
        base_reviews = int(base_orders * reviews_per_order)
        photo_count = pick(rng, (1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8))
        photos = tuple(
            _media_key(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(photo_count)
        )
        feedback = None
        if base_reviews and rng.random() < 0.8:  # some reviewed cards show no top review
            feedback = self._feedback(pid, rng, chars, combos)
        attributes = [f"Brend: {brand}", f"Model: {model}"] if rng.random() < 0.5 else []
        badges = [dict(pick(rng, _BADGES))] if rng.random() < 0.05 else []
        warranty = {"amount": pick(rng, (3, 6, 12, 24))} if rng.random() < top.warranty else None
        slowest = max(skus, key=lambda s: s.delivery_days)
        return _Product(
            id=pid,
            title_uz=f"{noun_uz} {brand} {model}{feat_uz}",
            title_ru=f"{noun_ru} {brand} {model}{feat_ru}",
            leaf=leaf,
            seller=self.seller(self._seller_index(pid)),
            description_json=_enc(self._description(rng, noun_uz, brand, model)),
            attributes_json=_js(attributes),
            tags_json=_js([noun_uz.lower(), brand.lower()] if rng.random() < 0.3 else []),
            photo_keys=photos,
            video_json=_js(video),
            chars=tuple((c["title"], tuple(v["title"] for v in c["values"])) for c in chars),
            chars_json=_js(chars),
            skus=skus,
            ends_in_990=rng.random() < 0.5,
            base_orders=base_orders,
            # busier products sell faster; every product sells something within a day or two
            orders_per_tick=rng.uniform(0.02, 0.6) * (1 + base_orders / 300),
            orders_phase=rng.random(),
            base_reviews=base_reviews,
            reviews_per_order=reviews_per_order,
            base_rating=round(5.0 - rng.random() ** 2 * 1.2, 1),
            feedback_json=_js(feedback),
            badges_json=_js(badges),
            warranty_json=_js(warranty),
            fast_delivery_json=slowest.fast_delivery_json,
            perishable=top.perishable,
        )

    def _characteristics(
        self, pid: int, rng: random.Random, top: TopCategory, noun: str, n: int
    ) -> tuple[list[JsonDict], list[Combo]]:
        """Colour × variant characteristics and each SKU's (charIndex, valueIndex) pairs."""
        title, all_values = pick(rng, _NOUN_VARIANTS.get(noun, top.variants))
        palette = _COLOURS
        if n == 1 and rng.random() < 0.5:
            return [], [()]
        use_variant = n > len(palette) or rng.random() < 0.6
        use_colour = n > len(all_values) or not use_variant or rng.random() < 0.6
        n = min(n, (len(palette) if use_colour else 1) * (len(all_values) if use_variant else 1))
        dims: list[tuple[int, int]] = []  # (charIndex, number of values)
        chars: list[JsonDict] = []
        if use_colour:
            low = math.ceil(n / len(all_values)) if use_variant else n
            c = between(rng, low, min(n, len(palette)))
            values = [{"id": i, "title": t, "value": hexv} for i, t, hexv in rng.sample(palette, c)]
            chars.append({"id": -1, "title": "Rang", "titleType": "COLOR", "values": values})
            dims.append((len(chars) - 1, c))
        if use_variant:
            v = math.ceil(n / dims[0][1]) if dims else n
            start = between(rng, 0, len(all_values) - v)  # a contiguous run, e.g. sizes M..XL
            char_id = _CHAR_ID_BASE + pid * _CHAR_ID_FACTOR
            values = [
                {"id": char_id + 1 + k, "title": val, "value": val}
                for k, val in enumerate(all_values[start : start + v])
            ]
            chars.append({"id": char_id, "title": title, "titleType": None, "values": values})
            dims.append((len(chars) - 1, v))
        # sample cells of the colour × variant grid by index instead of listing the grid
        if len(dims) == 1:
            return chars, [((0, k),) for k in rng.sample(range(dims[0][1]), n)]
        width = dims[1][1]
        cells = rng.sample(range(dims[0][1] * width), n)
        return chars, [((0, cell // width), (1, cell % width)) for cell in cells]

    def _skus(
        self,
        pid: int,
        rng: random.Random,
        chars: list[JsonDict],
        combos: list[Combo],
        base_price: float,
        with_video: bool,
    ) -> tuple[_Sku, ...]:
        ends_990 = rng.random() < 0.5
        # some cards price every variant alike, others vary by the non-colour value
        variants = len(chars[-1]["values"]) if chars and chars[-1]["titleType"] is None else 0
        flat = variants < 2 or rng.random() < 0.5
        value_mult = [1.0] if flat else [pick(rng, _VARIANT_PRICE_STEPS) for _ in range(variants)]
        markup = 1.0 if rng.random() < 0.35 else rng.uniform(1.1, 2.6)
        primary = pick(rng, _STOCK_TYPES)
        days = {"FBO": 1, "FBS": between(rng, 2, 6), "DBS": between(rng, 3, 10)}
        delivery = {kind: self._fast_delivery_json[kind, d] for kind, d in days.items()}
        skus = []
        for k, combo in enumerate(combos):
            sku_id = pid * _SKU_ID_FACTOR + k
            last = combo[-1] if combo else None
            variant = last[1] if last and chars[last[0]]["titleType"] is None else 0
            purchase = nice_price(base_price * value_mult[0 if flat else variant], ends_990)
            # one 64-bit draw sliced into fields: a Random call per field costs ~10x more
            h = rng.getrandbits(64)
            stock_type = primary if h & 0xFF < 205 else ("FBO", "FBS")[h >> 8 & 1]  # 80 % primary
            period = 24 + (h >> 9) % 217  # restocks every one to ten simulated days
            empty = (h >> 25) & 0xFF < 38  # ≈ 15 % of SKUs are out of stock for good
            capacity = 0 if empty else min(500, int(-25 * math.log(1 - unit(mix64(h)))) + 1)
            video_json = "null"
            if with_video:
                video_json = _enc(f"{_VIDEO_BASE}{_media_key(h, mix64(h))}/original.mp4")
            skus.append(
                _Sku(
                    id=sku_id,
                    refs_json=_refs_json(combo),
                    purchase=purchase,
                    full=purchase if markup == 1.0 else nice_price(purchase * markup, False),
                    stock_type=stock_type,
                    delivery_days=days[stock_type],
                    fast_delivery_json=delivery[stock_type],
                    capacity=capacity,
                    # sells 30–130 % of a restock per period: some SKUs run dry before it
                    sales_per_tick=capacity * (0.3 + ((h >> 33) & 0xFFFF) / 65536) / period,
                    restock_period=period,
                    restock_phase=(h >> 49) % period,
                    barcode=ean13(100_000_000_000 + sku_id),
                    video_json=video_json,
                )
            )
        rng.shuffle(skus)  # the upstream lists SKUs in no particular order
        return tuple(skus)

    @staticmethod
    def _description(rng: random.Random, noun: str, brand: str, model: str) -> str:
        lines = rng.sample(_DESCRIPTION_LINES, k=between(rng, 2, 5))
        paragraphs = "".join(f"<p>{line.format(noun=noun.lower())}</p>" for line in lines)
        return f"{paragraphs}<ul><li>Brend: {brand}</li><li>Model: {model}</li></ul>"

    @staticmethod
    def _feedback(
        pid: int, rng: random.Random, chars: list[JsonDict], combos: list[Combo]
    ) -> JsonDict:
        picked = [
            {
                "characteristic": chars[ci]["title"],
                "characteristicValue": chars[ci]["values"][vi]["title"],
            }
            for ci, vi in pick(rng, combos)
        ]
        pros, cons, content = pick(rng, _FEEDBACK)
        return {
            "reviewId": 20_000_000 + pid * 3,
            "productId": pid,
            "date": UZUM_EPOCH_MS - rng.randrange(1, 300) * DAY_MS,
            "edited": False,
            "customer": pick(rng, _CUSTOMERS),
            "rating": pick(rng, (5, 5, 5, 4, 4, 3)),
            "characteristics": picked,
            "pros": pros,
            "cons": cons,
            "content": content,
            "photos": [],
            "status": "PUBLISHED",
            "hasVerticalPhoto": None,
            "like": False,
            "dislike": False,
            "amountLike": between(rng, 0, 5),
            "amountDislike": 0,
            "id": 140_000_000 + pid * 7,
            "isAnonymous": rng.random() < 0.1,
        }

    # ---- time --------------------------------------------------------------------------------

    def _price_multiplier(self, pid: int, tick: int) -> float:
        """The product's price factor at ``tick``: one redraw per block, at a hashed offset."""
        base = mix64(self._k_price + pid * GOLDEN)
        block = tick // PRICE_BLOCK_TICKS
        h = mix64(base + block * GOLDEN)
        if tick % PRICE_BLOCK_TICKS < h % PRICE_BLOCK_TICKS:  # this block's redraw is not due
            if block == 0:
                return 1.0
            h = mix64(base + (block - 1) * GOLDEN)
        return _PRICE_MULTIPLIERS[(h >> 8) % len(_PRICE_MULTIPLIERS)]

    def _state(self, p: _Product, tick: int) -> _State:
        orders = p.base_orders + int(p.orders_per_tick * tick + p.orders_phase)
        reviews = p.base_reviews + int((orders - p.base_orders) * p.reviews_per_order)
        if reviews == 0:
            rating = 0.0
        else:
            h = mix64(self._k_rating + p.id * GOLDEN + tick // RATING_BLOCK_TICKS)
            rating = min(5.0, max(1.0, round(p.base_rating + 0.1 * (h % 3 - 1), 1)))
        mult = self._price_multiplier(p.id, tick)
        prices = []
        stock = []
        for s in p.skus:
            purchase = s.purchase if mult == 1.0 else nice_price(s.purchase * mult, p.ends_in_990)
            prices.append((purchase, max(s.full, purchase)))
            sold = int(s.sales_per_tick * ((tick + s.restock_phase) % s.restock_period))
            stock.append(max(0, s.capacity - sold))
        return _State(orders, reviews, rating, prices, stock)

    def _now_ms(self, pid: int, tick: int) -> int:
        # spread products over the simulated hour so their timestamps differ
        return (
            UZUM_EPOCH_MS + tick * UZUM_TICK_MS + mix64(self._k_time + pid * GOLDEN) % UZUM_TICK_MS
        )

    def timestamp(self, product_id: int, tick: int) -> str:
        """The envelope's ``timestamp``: Tashkent local time with nanoseconds, no zone."""
        ms = self._now_ms(product_id, tick)
        moment = datetime.fromtimestamp(ms // 1000, UTC) + TASHKENT
        nanos = (ms % 1000) * 1_000_000 + mix64(product_id + tick) % 1_000_000
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}"

    # ---- payloads ----------------------------------------------------------------------------

    def _render(self, p: _Product, tick: int) -> str:
        st = self._state(p, tick)
        now_ms = self._now_ms(p.id, tick)
        delivery = {d: _delivery(now_ms, d) for d in {s.delivery_days for s in p.skus}}
        sku_parts = []
        for s, (purchase, full), stock in zip(p.skus, st.prices, st.stock, strict=True):
            per_month = purchase * _INSTALMENT_NUM // _INSTALMENT_DEN
            when = delivery[s.delivery_days]
            sku_parts.append(
                _SKU_TEMPLATE
                % {
                    "id": s.id,
                    "refs": s.refs_json,
                    "available": stock,
                    "full": full,
                    "purchase": purchase,
                    "barcode": s.barcode,
                    "per_month_text": _thousands(per_month),
                    "per_month": per_month,
                    "video": s.video_json,
                    "stock_type": f'"{s.stock_type}"',
                    "days": s.delivery_days,
                    "delivery_title": when[1],  # already a JSON string literal
                    "delivery_date": when[0],
                    "fast_delivery": s.fast_delivery_json,
                }
            )
        photos = ",".join(
            _PHOTO_TEMPLATE % {"key": key, "quoted_key": f'"{key}"'} for key in p.photo_keys
        )
        chars = p.chars_json
        return _PRODUCT_TEMPLATE % {
            "id": p.id,
            "title": _enc(p.title_uz),
            "title_ru": _enc(p.title_ru),
            "category": self._chain_json[p.leaf.id],
            "rating": st.rating,
            "reviews": st.reviews,
            "orders": st.orders,
            "r_orders": round_orders(st.orders),
            "total": sum(st.stock),
            "description": p.description_json,
            "attributes": p.attributes_json,
            "tags": p.tags_json,
            "photos": f"[{photos}]",
            "video": p.video_json,
            "characteristics": chars,
            "skus": f"[{','.join(sku_parts)}]",
            "seller": p.seller.json(tick),
            "feedback": p.feedback_json,
            "perishable": _bool(p.perishable),
            "badges": p.badges_json,
            "fast_delivery": p.fast_delivery_json,
            "original": _bool(p.seller.official),
            "warranty": p.warranty_json,
            "color_preview": _bool(chars.startswith('[{"id":-1,')),
            "adult": _bool(p.leaf.adult),
            "seller_title": _enc(p.seller.title),
            "timestamp": _enc(self.timestamp(p.id, tick)),
        }

    def _encode(self, product_id: int, tick: int) -> bytes | None:
        p = self._static(product_id)
        return None if p is None else self._render(p, tick).encode()

    def product_bytes(self, product_id: int, tick: int) -> bytes | None:
        """The ``/api/v2/product/{id}`` body at ``tick`` (None if no product), compact UTF-8
        JSON; cached per (id, tick) in a small LRU so retries are cheap."""
        return self._bytes(product_id, tick)

    def product_payload(self, product_id: int, tick: int) -> JsonDict | None:
        """The decoded envelope ``{"payload": {"data", "seo"}, "timestamp"}``: a fresh dict."""
        body = self.product_bytes(product_id, tick)
        return None if body is None else dict(json.loads(body))

    def expected(self, product_id: int, tick: int) -> ExpectedProduct | None:
        """A plain summary of what a scanner should store for this product at ``tick``."""
        p = self._static(product_id)
        if p is None:
            return None
        st = self._state(p, tick)
        chain = tuple(
            ExpectedCategory(c.id, c.title, c.parent_id)
            for c in (self.categories[cid] for cid in p.leaf.path)
        )
        skus = tuple(
            ExpectedSku(
                s.id,
                purchase,
                full,
                stock,
                _label(p.chars, s.refs_json),
                s.barcode,
                s.stock_type,
            )
            for s, (purchase, full), stock in zip(p.skus, st.prices, st.stock, strict=True)
        )
        return ExpectedProduct(
            id=p.id,
            title=p.title_uz,
            title_uz=p.title_uz,
            title_ru=p.title_ru,
            category_id=p.leaf.id,
            categories=chain,
            seller_id=p.seller.id,
            seller_link=p.seller.link,
            orders=st.orders,
            r_orders=round_orders(st.orders),
            reviews=st.reviews,
            rating=st.rating,
            total_available=sum(st.stock),
            skus=skus,
        )

    def sku_count(self, product_id: int) -> int:
        """Number of SKUs of a product (0 if none): lets tests pick large or single-SKU cards."""
        p = self._static(product_id)
        return 0 if p is None else len(p.skus)
