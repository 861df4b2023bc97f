"""Units, comparison words and range words of the 26 EEA languages, as data.

``dhpc check`` compares a number together with its unit ("10 mg/kg", "14 Tage") and its
comparison sign ("< 0,5", "weniger als 5"). Symbols of units are the same in every
language and case-sensitive ("m" metre, "M" molar); words of time and of percent are
each language's own, with the inflected forms a number is followed by (Finnish
"14 päivää", "14 päivän välein"; Polish "2 dni", "1 dnia"; Greek "3 ημέρες"). The words
of every language mean one canonical unit, so "Tage" = "days" = "päivää".

A word is listed here only where it is reliable next to a number: a comparison word
that also means something else before a number (German "unter" is also "among",
Hungarian "alatt" also "within") is left out, and so is a range word other than the
one between two numbers ("2 bis 4", not "bis 4").
"""

from __future__ import annotations

from types import MappingProxyType

# --- unit symbols (every language) ----------------------------------------------------------

_SYMBOL_GROUPS: dict[str, str] = {
    # mass
    "mg": "mg",
    "g": "g",
    "kg": "kg",
    "µg": "µg μg mcg mikrog",
    "ng": "ng",
    "pg": "pg",
    # volume
    "L": "l L",
    "dL": "dl dL",
    "cL": "cl cL",
    "nL": "nl nL",
    # amount of substance
    "mol": "mol",
    "mmol": "mmol",
    "µmol": "µmol μmol",
    "nmol": "nmol",
    "pmol": "pmol",
    "mEq": "mEq",
    "M": "M",
    "mM": "mM",
    "µM": "µM μM",
    "nM": "nM",
    # international units (the abbreviations of one language only are its words, below)
    "IU": "IU IE I.E. UI U.I.",
    "U": "U",
    "kU": "kU",
    "MU": "MU",
    # length, area, volume
    "mm": "mm",
    "cm": "cm",
    "m": "m",
    "km": "km",
    "µm": "µm μm",
    "nm": "nm",
    "m²": "m² m2",
    "cm²": "cm² cm2",
    "mm²": "mm² mm2",
    "m³": "m³ m3",
    # a cubic millimetre is a microlitre, a cubic centimetre a millilitre: "/mm³" = "/µl"
    "mL": "ml mL cm³ cm3",
    "µL": "µl μl µL μL mcl mm³ mm3",
    # pressure, temperature
    "mmHg": "mmHg",
    "cmH₂O": "cmH₂O cmH2O",
    "kPa": "kPa",
    "Pa": "Pa",
    "bar": "bar",
    "°C": "°C",
    "°F": "°F",
    "°": "°",
    # proportion
    "%": "%",
    "‰": "‰",
    "ppm": "ppm",
    # time
    "hour": "h",
    "minute": "min",
    "second": "s",
    "ms": "ms",
    "µs": "µs",
    "day": "d",
    # frequency, radiation, energy
    "Hz": "Hz",
    "kHz": "kHz",
    "MHz": "MHz",
    "Gy": "Gy",
    "cGy": "cGy",
    "mGy": "mGy",
    "Sv": "Sv",
    "mSv": "mSv",
    "µSv": "µSv μSv",
    "Bq": "Bq",
    "kBq": "kBq",
    "MBq": "MBq",
    "GBq": "GBq",
    "kcal": "kcal",
    "kJ": "kJ",
}

SYMBOLS: MappingProxyType[str, str] = MappingProxyType(
    {written: unit for unit, forms in _SYMBOL_GROUPS.items() for written in forms.split()}
)
"""A unit symbol as written → its canonical form ("ml" → "mL", "μg" → "µg")."""

SCALED_SYMBOLS: MappingProxyType[str, tuple[str, int]] = MappingProxyType(
    {"G/l": ("/L", 9), "G/L": ("/L", 9), "T/l": ("/L", 12), "T/L": ("/L", 12)}
)
"""Cell counts written with an SI prefix: "0,5 G/l" is 0,5 × 10⁹/l."""

# --- words of time and percent (each language) ----------------------------------------------

_DAY, _WEEK, _MONTH, _YEAR, _HOUR, _MINUTE, _PERCENT, _IU = (
    "day",
    "week",
    "month",
    "year",
    "hour",
    "minute",
    "%",
    "IU",
)

_WORDS: dict[str, dict[str, str]] = {
    "bg": {
        _DAY: "ден дни дена денят деня дните денонощие денонощия д.",
        _WEEK: "седмица седмици седмицата седмиците седм.",
        _MONTH: "месец месеца месеци месецът месеците мес.",
        _YEAR: "година години годината годините год.",
        _HOUR: "час часа часове часът часовете ч.",
        _MINUTE: "минута минути минутата минутите мин.",
        _PERCENT: "процент процента процентът процентите",
        _IU: "МЕ",
    },
    "cs": {
        _DAY: "den dne dny dnů dní dni dnech dnům dnem dnu",
        _WEEK: "týden týdne týdny týdnů týdnech týdnu týdnům týdnem týd.",
        _MONTH: "měsíc měsíce měsíců měsících měsíci měsícům měsícem měs.",
        _YEAR: "rok roku roky roků let letech letům lety rokem",
        _HOUR: "hodina hodiny hodin hodinách hodinu hodinami hodině hod.",
        _MINUTE: "minuta minuty minut minutách minutu minutami minutě",
        _PERCENT: "procento procenta procent procentům procentech",
        _IU: "m.j.",
    },
    "da": {
        _DAY: "dag dage dagen dagene dages døgn døgnet døgns",
        _WEEK: "uge uger ugen ugerne ugers",
        _MONTH: "måned måneder måneden månederne måneders md. mdr.",
        _YEAR: "år året årene års",
        _HOUR: "time timer timen timerne timers t t.",
        _MINUTE: "minut minutter minuttet minutterne",
        _PERCENT: "procent procents pct.",
    },
    "de": {
        _DAY: "Tag Tage Tagen Tages Tg.",
        _WEEK: "Woche Wochen Wo.",
        _MONTH: "Monat Monate Monaten Monats",
        _YEAR: "Jahr Jahre Jahren Jahres",
        _HOUR: "Stunde Stunden Std. Stdn.",
        _MINUTE: "Minute Minuten Min.",
        _PERCENT: "Prozent",
    },
    "el": {
        _DAY: "ημέρα ημέρες ημέρας ημερών μέρα μέρες μέρας μερών ημ.",
        _WEEK: "εβδομάδα εβδομάδες εβδομάδας εβδομάδων εβδ.",
        _MONTH: "μήνας μήνες μήνα μηνών μην. μήν.",
        _YEAR: "έτος έτη έτους ετών χρόνος χρόνια χρόνου χρόνων έτ.",
        _HOUR: "ώρα ώρες ώρας ωρών ώ.",
        _MINUTE: "λεπτό λεπτά λεπτού λεπτών",
        _PERCENT: "τοις_εκατό",
    },
    "en": {
        _DAY: "day days",
        _WEEK: "week weeks wk wks",
        _MONTH: "month months mo mos",
        _YEAR: "year years yr yrs",
        _HOUR: "hour hours hr hrs",
        _MINUTE: "minute minutes mins",
        _PERCENT: "percent per_cent",
    },
    "es": {
        _DAY: "día días dia dias",
        _WEEK: "semana semanas",
        _MONTH: "mes meses",
        _YEAR: "año años",
        _HOUR: "hora horas",
        _MINUTE: "minuto minutos",
        _PERCENT: "por_ciento por_cien",
    },
    "et": {
        _DAY: "päev päeva päevas päevast päevaks päevani päevaga päevad päevade päevi "
        "päevadel päevadeks päevadest päevil ööpäev ööpäeva ööpäevas ööpäevad ööpäevade "
        "ööpäevi",
        _WEEK: "nädal nädala nädalat nädalas nädalast nädalaks nädalani nädalad nädalate "
        "nädalaid nädalatel näd.",
        _MONTH: "kuu kuud kuul kuuks kuuni kuude kuid kuudel kuust",
        _YEAR: "aasta aastat aastas aastast aastaks aastani aastad aastate aastaid aastal",
        _HOUR: "tund tunni tundi tunnis tunnist tunniks tunnid tundide tunde tunnil",
        _MINUTE: "minut minuti minutit minutis minutist minutiks minutid minutite minuteid",
        _PERCENT: "protsent protsenti protsendi protsendil protsendini protsendist",
        _IU: "RÜ",
    },
    "fi": {
        _DAY: "päivä päivän päivää päivässä päivästä päivään päivänä päiväksi päivällä "
        "päivältä päivälle päivät päivien päiviä päivissä päivistä päiviin päivinä "
        "päiviksi päivillä päiviltä päiville pv pvä vuorokausi vuorokauden vuorokautta "
        "vuorokaudessa vuorokaudesta vuorokauteen vuorokautena vuorokaudeksi vuorokaudella "
        "vuorokaudelta vuorokaudelle vuorokaudet vuorokausien vuorokausia vuorokausissa "
        "vuorokausista vuorokausiin vuorokausina vuorokausiksi vuorokausilla vrk",
        _WEEK: "viikko viikon viikkoa viikossa viikosta viikkoon viikkona viikoksi viikolla "
        "viikolta viikolle viikot viikkojen viikkoja viikoissa viikoista viikkoihin "
        "viikkoina viikoiksi viikoilla viikoilta viikoille vk vko",
        _MONTH: "kuukausi kuukauden kuukautta kuukaudessa kuukaudesta kuukauteen kuukautena "
        "kuukaudeksi kuukaudella kuukaudelta kuukaudelle kuukaudet kuukausien kuukausia "
        "kuukausissa kuukausista kuukausiin kuukausina kuukausiksi kuukausilla kk",
        _YEAR: "vuosi vuoden vuotta vuodessa vuodesta vuoteen vuotena vuodeksi vuodella "
        "vuodelta vuodelle vuodet vuosien vuosia vuosissa vuosista vuosiin vuosina "
        "vuosiksi vuosilla",
        _HOUR: "tunti tunnin tuntia tunnissa tunnista tuntiin tuntina tunniksi tunnilla "
        "tunnilta tunnille tunnit tuntien tunteja tunneissa tunneista tunteihin tunteina "
        "tunneiksi tunneilla t",
        _MINUTE: "minuutti minuutin minuuttia minuutissa minuutista minuuttiin minuuttina "
        "minuutiksi minuutilla minuutilta minuutille minuutit minuuttien minuutteja "
        "minuuteissa minuuteista minuutteihin minuutteina minuuteiksi minuuteilla",
        _PERCENT: "prosentti prosentin prosenttia prosentissa prosentista prosenttiin "
        "prosenttina prosentiksi prosentilla prosentilta prosentille",
        _IU: "KY",
    },
    "fr": {
        _DAY: "jour jours j",
        _WEEK: "semaine semaines sem.",
        _MONTH: "mois",
        _YEAR: "an ans année années",
        _HOUR: "heure heures",
        _MINUTE: "minute minutes",
        _PERCENT: "pour_cent pourcent",
    },
    "ga": {
        _DAY: "lá lae laethanta laethe",
        _WEEK: "seachtain seachtaine seachtainí",
        _MONTH: "mí míosa míonna mhí",
        _YEAR: "bliain bliana blianta bhliain mbliana bl bhl mbl",
        _HOUR: "uair uaire uaireanta n-uaire",
        _MINUTE: "nóiméad nóiméid nóiméadaí nóim",
        _PERCENT: "faoin_gcéad sa_chéad faoi_chéad",
    },
    "hr": {
        _DAY: "dan dana dane danu danima",
        _WEEK: "tjedan tjedna tjedana tjedne tjednu tjednima tj.",
        _MONTH: "mjesec mjeseca mjeseci mjesecu mjesecima mj.",
        _YEAR: "godina godine godinu godinama god.",
        _HOUR: "sat sata sati satu satima",
        _MINUTE: "minuta minute minutu minutama",
        _PERCENT: "posto postotak postotka postotaka postotku",
    },
    "hu": {
        _DAY: "nap napig napja napon napot naponta napi napra napban napos napnyi napnál naptól",
        _WEEK: "hét hétig hete héten hetet hetente hetenként heti hétre hétben hetes "
        "hétnél héttől hétnyi",
        _MONTH: "hónap hónapig hónapja hónapon hónapot havonta havi hónapra hónapban hónapos "
        "hónapnál hónaptól hónapnyi",
        _YEAR: "év évig éve éven évet évente évi évre évben éves évnél évtől évnyi",
        _HOUR: "óra óráig órája órán órát óránként órai órára órában órás óránál órától",
        _MINUTE: "perc percig perce percen percet percenként perci percre percben perces "
        "percnél perctől",
        _PERCENT: "százalék százalékkal százaléka százalékos százalékát százalékban "
        "százaléknyi százalékra százaléknál százaléktól",
        _IU: "NE",
        "kg": "ttkg",  # testtömeg-kilogramm, a kilogram of body weight: "mg/ttkg"
    },
    "is": {
        _DAY: "dagur dag degi dags dagar daga dögum daganna dagana dögunum sólarhring "
        "sólarhringur sólarhringa sólarhringum",
        _WEEK: "vika viku vikur vikna vikum vikunnar vikurnar",
        _MONTH: "mánuður mánuð mánuði mánaðar mánuðir mánuðum mánaða mánuðina mán.",
        _YEAR: "ár ári árs árum ára árin árunum",
        _HOUR: "klukkustund klukkustundir klukkustunda klukkustundum klukkustundar klst klst.",
        _MINUTE: "mínúta mínútu mínútur mínútna mínútum mín.",
        _PERCENT: "prósent prósenta prósentum prósentu",
    },
    "it": {
        _DAY: "giorno giorni gg",
        _WEEK: "settimana settimane sett.",
        _MONTH: "mese mesi",
        _YEAR: "anno anni",
        _HOUR: "ora ore",
        _MINUTE: "minuto minuti",
        _PERCENT: "per_cento percento",
    },
    "lt": {
        _DAY: "diena dienos dieną dienų dienas dienomis dienoje dienai d. para paros parą "
        "parų paras",
        _WEEK: "savaitė savaitės savaitę savaičių savaites savaitėmis savaitėje savaitei sav.",
        _MONTH: "mėnuo mėnesio mėnesį mėnesiai mėnesių mėnesius mėnesiais mėnesyje mėn.",
        _YEAR: "metai metų metus metams metais metuose m.",
        _HOUR: "valanda valandos valandą valandų valandas valandomis valandoje val.",
        _MINUTE: "minutė minutės minutę minučių minutes minutėmis",
        _PERCENT: "procentas procento procentai procentų procentus procentais proc.",
        _IU: "TV",
    },
    "lv": {
        _DAY: "diena dienas dienu dienā dienām dienās dienai diennakts diennaktis diennaktī "
        "diennakšu diennaktīm d.",
        _WEEK: "nedēļa nedēļas nedēļu nedēļā nedēļām nedēļās nedēļai ned.",
        _MONTH: "mēnesis mēneša mēnesi mēnesī mēneši mēnešus mēnešu mēnešiem mēnešos mēn.",
        _YEAR: "gads gada gadu gadā gadi gadus gadiem gados",
        _HOUR: "stunda stundas stundu stundā stundām stundās st.",
        _MINUTE: "minūte minūtes minūti minūtē minūšu minūtēm minūtēs",
        _PERCENT: "procents procenti procentu procentiem procentos procentus procentam proc.",
        _IU: "SV",
    },
    "mt": {
        _DAY: "jum jiem ġurnata ġranet ġurnati",
        _WEEK: "ġimgħa ġimgħat ġimgħatejn",
        _MONTH: "xahar xhur xahrejn",
        _YEAR: "sena snin sentejn",
        _HOUR: "siegħa sigħat sagħtejn",
        _MINUTE: "minuta minuti",
        _PERCENT: "fil-mija",
    },
    "nb": {
        _DAY: "dag dager dagen dagene døgn døgnet døgnene",
        _WEEK: "uke uker uken ukene uka",
        _MONTH: "måned måneder måneden månedene md. mnd.",
        _YEAR: "år året årene års",
        _HOUR: "time timer timen timene t t.",
        _MINUTE: "minutt minutter minuttet minuttene",
        _PERCENT: "prosent prosenten",
    },
    "nl": {
        _DAY: "dag dagen",
        _WEEK: "week weken wk",
        _MONTH: "maand maanden mnd",
        _YEAR: "jaar jaren jr",
        _HOUR: "uur uren u",
        _MINUTE: "minuut minuten",
        _PERCENT: "procent",
    },
    "pl": {
        _DAY: "dzień dnia dni dniach dniami dniom dniu doba doby dób dobę dobach dobami",
        _WEEK: "tydzień tygodnia tygodnie tygodni tygodniach tygodniami tygodniu tygodniom "
        "tydz. tyg.",
        _MONTH: "miesiąc miesiąca miesiące miesięcy miesiącach miesiącami miesiącu mies.",
        _YEAR: "rok roku lata lat latach latami latom",
        _HOUR: "godzina godziny godzin godzinach godzinami godzinę godzinie godz.",
        _MINUTE: "minuta minuty minut minutach minutami minutę minucie",
        _PERCENT: "procent procenta procentów procentach procentami procentom proc.",
        _IU: "j.m.",
    },
    "pt": {
        _DAY: "dia dias",
        _WEEK: "semana semanas",
        _MONTH: "mês mes meses",
        _YEAR: "ano anos",
        _HOUR: "hora horas",
        _MINUTE: "minuto minutos",
        _PERCENT: "por_cento",
    },
    "ro": {
        _DAY: "zi zile zilei zilele zilelor",
        _WEEK: "săptămână săptămâni săptămâna săptămânii săptămânile săptămânilor săpt.",
        _MONTH: "lună luni luna lunii lunile lunilor",
        _YEAR: "an ani anul anului anii anilor",
        _HOUR: "oră ore ora orei orele orelor",
        _MINUTE: "minut minute minutul minutului minutele minutelor",
        _PERCENT: "procent procente procentul la_sută la_sută",
    },
    "sk": {
        _DAY: "deň dňa dni dní dňoch dňom dňami",
        _WEEK: "týždeň týždňa týždne týždňov týždňoch týždni týždňom týž.",
        _MONTH: "mesiac mesiaca mesiace mesiacov mesiacoch mesiaci mesiacom mes.",
        _YEAR: "rok roka roku roky rokov rokoch rokom",
        _HOUR: "hodina hodiny hodín hodinách hodinu hodinami hodine hod.",
        _MINUTE: "minúta minúty minút minútach minútu minútami minúte",
        _PERCENT: "percento percentá percenta percent percentám percentách percentami",
        _IU: "m.j.",
    },
    "sl": {
        _DAY: "dan dneva dni dnevi dnevih dnevov dnevoma dneve dnem dnevu",
        _WEEK: "teden tedna tedne tednov tednih tedni tednoma tednu",
        _MONTH: "mesec meseca mesece mesecev mesecih meseci mesecema mesecu",
        _YEAR: "leto leta let letih leti letom letu",
        _HOUR: "ura ure ur urah uri urama uro",
        _MINUTE: "minuta minute minut minutah minuti minutama minuto",
        _PERCENT: "odstotek odstotka odstotke odstotkov odstotki odstotkih odstotkoma",
        _IU: "i.e.",
    },
    "sv": {
        _DAY: "dag dagar dagars dagen dagarna dagens dygn dygnet dygnen",
        _WEEK: "vecka veckor veckors veckan veckorna veckas",
        _MONTH: "månad månader månaders månaden månaderna mån",
        _YEAR: "år års året åren",
        _HOUR: "timme timmar timmars timmen timmarna tim",
        _MINUTE: "minut minuter minuters minuten minuterna",
        _PERCENT: "procent procenten",
    },
}
"""Forms of each unit word (and the language's own abbreviation of international units);
``_`` joins the words of a unit written in two words."""

LANGUAGE_ALIASES = MappingProxyType({"no": "nb", "nn": "nb"})
"""Languages whose words are those of another (Norwegian Nynorsk is close enough for
units; "no" is how registries name Norwegian)."""


def _base(language: str) -> str:
    base = language.replace("-", "_").split("_")[0].lower()
    return LANGUAGE_ALIASES.get(base, base)


def unit_words(language: str) -> dict[str, str]:
    """Casefolded words (two-word forms with a space) → canonical unit, for ``language``."""
    table = _WORDS.get(_base(language), {})
    return {
        form.replace("_", " ").casefold(): unit
        for unit, forms in table.items()
        for form in forms.split()
    }


UNIT_NAMES = MappingProxyType(
    {
        _DAY: "days",
        _WEEK: "weeks",
        _MONTH: "months",
        _YEAR: "years",
        _HOUR: "hours",
        _MINUTE: "minutes",
        "second": "seconds",
    }
)
"""How a finding names a unit of time (in English, the language of messages)."""

_TIME_SYMBOLS = {
    _DAY: "d",
    _HOUR: "h",
    _MINUTE: "min",
    "second": "s",
}


def unit_name(unit: str) -> str:
    """A canonical unit as a finding names it: "days", "mg/kg", "mL/min"."""
    if unit in UNIT_NAMES:
        return UNIT_NAMES[unit]
    return "/".join(_TIME_SYMBOLS.get(part, part) for part in unit.split("/"))


_COMPOUNDS: dict[str, dict[str, str]] = {
    "bg": {_YEAR: "годишн", _DAY: "дневн", _WEEK: "седмичн", _MONTH: "месечн", _HOUR: "часов"},
    "cs": {_YEAR: "let", _DAY: "denn", _WEEK: "týdenn", _MONTH: "měsíčn", _HOUR: "hodinov"},
    "da": {_YEAR: "årig åring", _DAY: "dages døgns", _WEEK: "ugers", _MONTH: "måneders"},
    "de": {
        _YEAR: "jährig",
        _DAY: "tägig",
        _WEEK: "wöchig",
        _MONTH: "monatig",
        _HOUR: "stündig",
        _MINUTE: "minütig",
    },
    "et": {_YEAR: "aasta", _DAY: "päeva", _WEEK: "nädala", _HOUR: "tunni", _MINUTE: "minuti"},
    "fi": {
        _YEAR: "vuoti",
        _DAY: "päiväi",
        _WEEK: "viikkoi viikkoi",
        _MONTH: "kuukauti",
        _HOUR: "tunti",
        _MINUTE: "minuutti",
    },
    "hr": {_YEAR: "godišnj", _DAY: "dnevn", _WEEK: "tjedn", _MONTH: "mjesečn", _HOUR: "satn"},
    "lt": {_YEAR: "meči", _DAY: "dien", _WEEK: "savait", _MONTH: "mėnes"},
    "lv": {_YEAR: "gadīg gadniek", _DAY: "dien", _WEEK: "nedēļ", _MONTH: "mēneš"},
    "nb": {_YEAR: "årig åring", _DAY: "dagers døgns", _WEEK: "ukers", _MONTH: "måneders"},
    "nl": {_YEAR: "jarig", _DAY: "daags daagse", _WEEK: "weeks wekelijks", _MONTH: "maand"},
    "pl": {_YEAR: "letn", _DAY: "dniow", _WEEK: "tygodniow", _MONTH: "miesięczn", _HOUR: "godzinn"},
    "sk": {_YEAR: "ročn", _DAY: "denn", _WEEK: "týždenn", _MONTH: "mesačn", _HOUR: "hodinov"},
    "sl": {_YEAR: "letn", _DAY: "dnevn", _WEEK: "tedensk", _MONTH: "mesečn", _HOUR: "urn"},
    "sv": {
        _YEAR: "årig åring",
        _DAY: "dagars dygns",
        _WEEK: "veckors",
        _MONTH: "månaders",
        _HOUR: "timmars",
    },
}
"""Stems of the compounds a number makes with a unit of time after a hyphen: Finnish
"18-vuotiaat" (18-year-olds), German "18-jährige", Swedish "5-dagarskur" (5-day
course), Czech "18letý" (written as one word)."""

_ATTACHED_COMPOUNDS = frozenset({"cs", "sk"})
"""Languages that write such a compound as one word with the digits: "18letý"."""

COMPOUNDING_LANGUAGES = frozenset({"da", "de", "et", "fi", "is", "nb", "nl", "sv"})
"""Languages that write a noun and a unit of time as one word: Finnish "12 hoitoviikon"
(12 treatment weeks), Swedish "12 behandlingsveckorna", German "12 Behandlungswochen"."""

TIME_UNITS = frozenset({_DAY, _WEEK, _MONTH, _YEAR, _HOUR, _MINUTE, "second"})
"""Units a language writes in its own words; a translation may put a word between the
number and them ("12 premières semaines") or leave them to the context."""

_ORDINAL_MARKS: dict[str, str] = {
    "cs": r"\.",
    "da": r"\.",
    "de": r"\.",
    "en": "st|nd|rd|th",
    "et": r"\.",
    "fi": r"\.",
    "fr": "e|er|re|ème|es",
    "hr": r"\.",
    "hu": r"\.",
    "is": r"\.",
    "lv": r"\.",
    "nb": r"\.",
    "sk": r"\.",
    "sl": r"\.",
    "sv": ":e|:a",
}
"""How an ordinal ends (a regex): "var 3:e månad", "jeden 3. Monat", "every 3rd month" —
every third month is every three months."""


def ordinal_mark(language: str) -> str:
    return _ORDINAL_MARKS.get(_base(language), "")


def compounds_with_units(language: str) -> bool:
    return _base(language) in COMPOUNDING_LANGUAGES


"""Languages that write such a compound as one word with the digits: "18letý"."""


def compound_stems(language: str) -> tuple[tuple[str, str], ...]:
    """(stem, unit) of ``language``'s compounds, longest stems first."""
    table = _COMPOUNDS.get(_base(language), {})
    pairs = {stem.casefold(): unit for unit, stems in table.items() for stem in stems.split()}
    return tuple(sorted(pairs.items(), key=lambda kv: (-len(kv[0]), kv[0])))


def attached_compounds(language: str) -> bool:
    return _base(language) in _ATTACHED_COMPOUNDS


UNIT_FILLERS = MappingProxyType({"ro": ("de",), "mt": ("-il",)})
"""Words between a number and its unit: Romanian "20 de zile", Maltese "14-il jum"."""

# --- comparison signs -----------------------------------------------------------------------

SIGN_SYMBOLS = MappingProxyType(
    {"<": "<", ">": ">", "≤": "≤", "≥": "≥", "⩽": "≤", "⩾": "≥", "≦": "≤", "≧": "≥"}
    | {"<=": "≤", "=<": "≤", ">=": "≥", "=>": "≥"}
)
"""A comparison sign as written → its canonical form."""

_SIGN_WORDS: dict[str, dict[str, str]] = {
    "bg": {
        "<": "по-малко от",
        ">": "повече от",
        "≥": "най-малко|поне|не по-малко от",
        "≤": "най-много|не повече от",
    },
    "cs": {
        "<": "méně než|nižší než|menší než",
        ">": "více než|vyšší než|větší než",
        "≥": "nejméně|alespoň|ne méně než",
        "≤": "nejvýše|maximálně|ne více než",
    },
    "da": {
        "<": "mindre end|færre end|lavere end",
        ">": "mere end|flere end|større end|højere end",
        "≥": "mindst|ikke mindre end",
        "≤": "højst|ikke mere end",
    },
    "de": {
        "<": "weniger als|kleiner als|niedriger als|geringer als",
        ">": "mehr als|größer als|höher als",
        "≥": "mindestens|nicht weniger als",
        "≤": "höchstens|maximal|nicht mehr als",
    },
    "el": {
        "<": "λιγότερο από|λιγότερα από|λιγότεροι από|μικρότερο από|μικρότερη από",
        ">": "περισσότερο από|περισσότερα από|περισσότεροι από|μεγαλύτερο από|μεγαλύτερη από",
        "≥": "τουλάχιστον|όχι λιγότερο από",
        "≤": "το πολύ|όχι περισσότερο από",
    },
    "en": {
        "<": "less than|fewer than|lower than",
        ">": "more than|greater than|higher than",
        "≥": "at least|no less than|not less than|no fewer than",
        "≤": "at most|no more than|not more than",
    },
    "es": {
        "<": "menos de|inferior a|inferiores a|por debajo de",
        ">": "más de|superior a|superiores a|por encima de",
        "≥": "al menos|como mínimo|no menos de",
        "≤": "como máximo|no más de",
    },
    "et": {
        "<": "vähem kui",
        ">": "rohkem kui",
        "≥": "vähemalt|mitte vähem kui",
        "≤": "maksimaalselt|mitte rohkem kui",
    },
    "fi": {
        "<": "alle|vähemmän kuin|pienempi kuin",
        ">": "yli|enemmän kuin|suurempi kuin",
        "≥": "vähintään|ei alle",
        "≤": "enintään|korkeintaan|ei yli",
    },
    "fr": {
        "<": "moins de|inférieur à|inférieure à|inférieurs à|inférieures à|en dessous de|"
        "au-dessous de",
        ">": "plus de|supérieur à|supérieure à|supérieurs à|supérieures à|au-dessus de",
        "≥": "au moins|au minimum|pas moins de|supérieur ou égal à|supérieure ou égale à",
        "≤": "au plus|au maximum|pas plus de|inférieur ou égal à|inférieure ou égale à|"
        "ne pas dépasser|sans dépasser",
    },
    "ga": {"<": "níos lú ná", ">": "níos mó ná"},
    "hr": {
        "<": "manje od|ispod",
        ">": "više od|iznad",
        "≥": "najmanje|barem|ne manje od",
        "≤": "najviše|ne više od",
    },
    "hu": {
        "<": "kevesebb mint|kevesebb, mint",
        ">": "több mint|több, mint",
        "≥": "legalább|nem kevesebb, mint",
        "≤": "legfeljebb|nem több, mint",
    },
    "is": {
        "<": "minna en|færri en|lægri en",
        ">": "meira en|fleiri en|hærri en",
        "≥": "að minnsta kosti",
        "≤": "að hámarki",
    },
    "it": {
        "<": "meno di|inferiore a|inferiori a|al di sotto di",
        ">": "più di|superiore a|superiori a|al di sopra di",
        "≥": "almeno|non meno di",
        "≤": "al massimo|non più di",
    },
    "lt": {
        "<": "mažiau nei|mažiau kaip",
        ">": "daugiau nei|daugiau kaip",
        "≥": "mažiausiai|bent|ne mažiau kaip|ne mažiau nei",
        "≤": "daugiausia|ne daugiau kaip|ne daugiau nei",
    },
    "lv": {
        "<": "mazāk nekā|mazāk par",
        ">": "vairāk nekā|vairāk par",
        "≥": "vismaz|ne mazāk kā|ne mazāk par",
        "≤": "ne vairāk kā|ne vairāk par",
    },
    "mt": {"<": "inqas minn", ">": "aktar minn", "≥": "mill-inqas", "≤": "mhux aktar minn"},
    "nb": {
        "<": "mindre enn|færre enn|lavere enn",
        ">": "mer enn|flere enn|større enn|høyere enn",
        "≥": "minst|ikke mindre enn",
        "≤": "høyst|maksimalt|ikke mer enn|ikke overstige|ikke overskride",
    },
    "nl": {
        "<": "minder dan|kleiner dan|lager dan",
        ">": "meer dan|groter dan|hoger dan",
        "≥": "ten minste|minstens|minimaal|niet minder dan",
        "≤": "ten hoogste|hoogstens|maximaal|niet meer dan",
    },
    "pl": {
        "<": "mniej niż|poniżej",
        ">": "więcej niż|powyżej",
        "≥": "co najmniej|nie mniej niż",
        "≤": "co najwyżej|maksymalnie|nie więcej niż",
    },
    "pt": {
        "<": "menos de|inferior a|inferiores a|abaixo de",
        ">": "mais de|superior a|superiores a|acima de",
        "≥": "pelo menos|no mínimo|não menos de",
        "≤": "no máximo|não mais de|não exceder|sem exceder",
    },
    "ro": {
        "<": "mai puțin de|mai puţin de",
        ">": "mai mult de",
        "≥": "cel puțin|cel puţin|nu mai puțin de|nu mai puţin de",
        "≤": "cel mult|nu mai mult de",
    },
    "sk": {
        "<": "menej ako|menej než|nižší ako",
        ">": "viac ako|viac než|vyšší ako",
        "≥": "najmenej|aspoň|nie menej ako",
        "≤": "najviac|maximálne|nie viac ako",
    },
    "sl": {
        "<": "manj kot|manj od",
        ">": "več kot|več od",
        "≥": "vsaj|najmanj|ne manj kot",
        "≤": "največ|ne več kot",
    },
    "sv": {
        "<": "mindre än|färre än|lägre än",
        ">": "mer än|fler än|större än|högre än",
        "≥": "minst|som minst|inte mindre än",
        "≤": "högst|som mest|inte mer än",
    },
}


def sign_words(language: str) -> dict[str, str]:
    """Casefolded comparison words of ``language`` → canonical sign (reliable ones)."""
    table = _SIGN_WORDS.get(_base(language), {})
    return {
        phrase.casefold(): sign for sign, phrases in table.items() for phrase in phrases.split("|")
    }


_LIKELY_SIGN_WORDS: dict[str, dict[str, str]] = {
    "bg": {"<": "под", ">": "над"},
    "cs": {"<": "pod", ">": "nad"},
    "da": {"<": "under", ">": "over"},
    "de": {"<": "unter|unterhalb", ">": "über|oberhalb"},
    "el": {"<": "κάτω από", ">": "πάνω από"},
    "en": {"<": "below|under", ">": "above|over"},
    "es": {"<": "bajo"},
    "et": {"<": "alla", ">": "üle"},
    "fr": {"<": "sous"},
    "is": {"<": "undir", ">": "yfir"},
    "it": {"<": "sotto", ">": "sopra|oltre"},
    "lt": {"<": "žemiau", ">": "virš"},
    "lv": {"<": "zem", ">": "virs"},
    "nb": {"<": "under", ">": "over"},
    "nl": {"<": "onder|beneden", ">": "boven"},
    "ro": {"<": "sub", ">": "peste"},
    "sk": {"<": "pod", ">": "nad"},
    "sl": {"<": "pod", ">": "nad"},
    "sv": {"<": "under", ">": "över"},
}
"""Words that are a comparison before a number most of the time, not always: German
"unter 30" is "below 30", "unter 1 000 Patienten" "among 1 000 patients"; Swedish
"under 4 veckor" is "for 4 weeks". They never make a finding of their own; they confirm
a sign the other language writes ("< 30" = "unter 30"), or make a differing one worth a
look."""


def likely_sign_words(language: str) -> dict[str, str]:
    """Casefolded words of ``language`` that are most often a comparison → its sign."""
    table = _LIKELY_SIGN_WORDS.get(_base(language), {})
    return {
        phrase.casefold(): sign for sign, phrases in table.items() for phrase in phrases.split("|")
    }


SIGN_NAMES = MappingProxyType({"<": "less than", ">": "more than", "≤": "at most", "≥": "at least"})

# --- ranges in words --------------------------------------------------------------------------

_RANGE_WORDS: dict[str, str] = {
    "bg": "до",
    "cs": "až do",
    "da": "til",
    "de": "bis",
    "el": "έως ως μέχρι",
    "en": "to",
    "es": "a",
    "et": "kuni",
    "fr": "à",
    "ga": "go",
    "hr": "do",
    "is": "til",
    "it": "a",
    "lt": "iki",
    "lv": "līdz",
    "mt": "sa",
    "nb": "til",
    "nl": "tot à",
    "pl": "do",
    "pt": "a",
    "ro": "până_la",
    "sk": "až do",
    "sl": "do",
    "sv": "till à",
}
"""The word between two numbers that makes them a range: "2 à 4", "2 bis 4", "2 do 4"."""

_BETWEEN_WORDS: dict[str, tuple[str, str]] = {
    "bg": ("между", "и"),
    "cs": ("mezi", "a"),
    "da": ("mellem", "og"),
    "de": ("zwischen", "und"),
    "el": ("μεταξύ", "και"),
    "en": ("between", "and"),
    "es": ("entre", "y"),
    "fr": ("entre", "et"),
    "ga": ("idir", "agus"),
    "hr": ("između", "i"),
    "is": ("milli", "og"),
    "it": ("tra", "e"),
    "lt": ("tarp", "ir"),
    "lv": ("starp", "un"),
    "mt": ("bejn", "u"),
    "nb": ("mellom", "og"),
    "nl": ("tussen", "en"),
    "pl": ("między", "a"),
    "pt": ("entre", "e"),
    "ro": ("între", "și"),
    "sk": ("medzi", "a"),
    "sl": ("med", "in"),
    "sv": ("mellan", "och"),
}
""""between 2 and 4": a range only with the first word, never "2 and 4" alone."""


def range_words(language: str) -> tuple[str, ...]:
    """The words of ``language`` that join two numbers into a range."""
    return tuple(w.replace("_", " ") for w in _RANGE_WORDS.get(_base(language), "").split())


def between_words(language: str) -> tuple[str, str] | None:
    """("between", "and") in ``language``, when it writes ranges that way."""
    return _BETWEEN_WORDS.get(_base(language))


EEA_LANGUAGES = tuple(sorted(_WORDS))
"""The languages every table here covers: the 24 of the EU, Icelandic and Norwegian."""
