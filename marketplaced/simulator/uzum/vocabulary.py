"""The words Uzum products are made of: real top-level categories and Uzbek/Russian vocabulary.

Immutable reference data only (no logic): the real top-level categories with the branches,
product nouns, brands, variant characteristics and price ranges their generated subtrees use,
the category chains recorded in the fixtures, colours, title parts, seller names, description
lines, reviews and badges. Editing a table changes every generated body of the affected seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


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
TOPS: Final[tuple[TopCategory, ...]] = (
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
NOUN_VARIANTS: Final[Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]]] = MappingProxyType(
    {"G'ilof": (_IPHONE,), "Kronshteyn": (_DIMENSIONS,)}
)

#: chains recorded in the fixtures, kept with their real ids: (top→leaf (id, title)), leaf noun
KNOWN_CHAINS: Final = (
    (((10020, "Elektronika"), (10044, "Smartfonlar va telefonlar"),
      (10398, "Smartfonlar uchun aksessuarlar"), (11937, "Qoplamalar")), ("G'ilof", "Чехол")),
    (((10020, "Elektronika"), (10129, "Televizorlar va videotexnikalar"),
      (11384, "Televizor uchun stend va kronshteynlar"), (11587, "Televizor uchun kronshteynlar")),
     ("Kronshteyn", "Кронштейн")),
)  # fmt: skip

QUALIFIERS: Final = ("Premium", "Arzon", "Universal", "Professional", "Bolalar uchun", "Sovg'abop")

#: (id, title, hex) — the first seven are the fixture's real colour ids
COLOURS: Final = (
    (-1, "Qora", "#000000"), (-2, "Oq", "#ffffff"), (-3, "Kulrang", "#999a9c"),
    (-4, "Kumush rang", "#d5d6d8"), (-125, "Koʻk", "#0549be"), (-18, "Sabzirang", "#f16311"),
    (-133, "Tilla", "#d3c64f"), (-5, "Qizil", "#e21e26"), (-6, "Yashil", "#1f9d55"),
    (-7, "Pushti", "#f5a3c7"), (-8, "Sariq", "#ffd600"), (-9, "Jigarrang", "#7b4a2d"),
    (-10, "Binafsha", "#7d3cbd"), (-11, "Havorang", "#7fc8f8"), (-12, "Bej", "#e8d8b8"),
)  # fmt: skip

VIDEO_BASE: Final = "https://storage.yandexcloud.net/um-prod-videos/videos/"
MODEL_TAILS: Final = ("", "", "", " Pro", " Max", " Lite", " Plus", "s")
FEATURES: Final = (
    ("", ""), ("", ""), (", original", ", оригинал"), (", 2025-yil modeli", ", модель 2025 года"),
    (", kafolat bilan", ", с гарантией"), (", sovg'a uchun", ", в подарок"),
    (", yangi kolleksiya", ", новая коллекция"),
)  # fmt: skip
SELLER_NAMES: Final = (
    "Aeris", "Premium", "Tech", "Smart", "Baraka", "Orzu", "Nur", "Mega", "Star", "Zamon",
    "Hamkor", "Ideal", "Lux", "Sifat", "Diyor", "Asia", "Silk", "Oltin", "Bahor", "Imkon",
    "Kamalak", "Yulduz", "Mehr", "Navo", "Saodat", "Tumaris", "Zilol", "Afrosiyob",
)  # fmt: skip
SELLER_SUFFIXES: Final = ("", ".uz", " Store", " Market", " Shop", "_official", " Trade",
                          " Savdo", " Home", " Mall")  # fmt: skip
SELLER_DESCRIPTIONS: Final = (
    "Sifatli mahsulotlar hamyonbop narxlarda.",
    "Hayotingizning qulayligi uchun aksessuarlar.",
    "Rasmiy distribyutor. Barcha mahsulotlar kafolatlangan.",
    "Toshkentdagi omborimizdan tez yetkazib beramiz.",
    "Oilaviy biznes, 2019-yildan beri.",
    "22",
)
DESCRIPTION_LINES: Final = (
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
FEEDBACK: Final = (
    ("qulay\n", "", "Hozircha yomonmas"),
    ("Sifati zo'r", "", "Tavsiya qilaman, tez yetkazib berishdi."),
    ("Чехол супер !!!", "", "Рекомендую!!! Спасибо продавцу за качественный товар !!!"),
    ("Narxi arzon", "Qadog'i yirtilgan edi", "Umuman olganda yaxshi."),
    ("", "", "Всё соответствует описанию."),
)
CUSTOMERS: Final = ("Asadbek", "Dilnoza", "Екатерина", "Jasur", "Madina", "Sardor", "Ольга",
                    "Nodira", "Bekzod", "Aziza")  # fmt: skip
#: the BottomTextBadge shape of Uzum's catalogue cards
BADGES: Final = (
    (("id", 129), ("text", "Chilla Bozor"), ("textColor", "#FFFFFF"),
     ("backgroundColor", "#9A72F2"), ("description", None), ("link", None)),
    (("id", 7), ("text", "Original"), ("textColor", "#FFFFFF"),
     ("backgroundColor", "#7000FF"), ("description", None), ("link", None)),
)  # fmt: skip
#: relative prices of a card's variants (e.g. a bigger size); 1.0 most common
VARIANT_PRICE_STEPS: Final = (0.5, 0.8, 1.0, 1.0, 1.0, 1.2, 1.5)
#: Uzum warehouse 70 %, seller warehouse 25 %, seller delivery 5 %
STOCK_TYPES: Final = ("FBO",) * 14 + ("FBS",) * 5 + ("DBS",)
UZ_MONTHS: Final = ("yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avgust",
                    "sentabr", "oktabr", "noyabr", "dekabr")  # fmt: skip
