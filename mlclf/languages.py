"""Language codes as users type them ("en", "eng", "eng_Latn", "pt-BR") -> a corpus' own code.

Corpora name languages differently (MasakhaNEWS `amh`, SIB-200 `eng_Latn`, BRIGHTER `ptbr`,
`esp`, `chn`), so nothing here lists a corpus' languages: `resolve` parses every code of
`available` the same way it parses the user's code and matches the two.

A code is parsed into (language, script, region). The language becomes ISO 639-3: ISO 639-1 codes
are looked up, ISO 639-2/B and deprecated codes are mapped (`ger` -> `deu`, `iw` -> `heb`), as are
the few non-ISO codes corpora use (`esp` -> `spa`, `chn` -> `zho`); any other three-letter code is
taken as ISO 639-3 as it is, so languages this module never heard of still resolve. Subtags
separated by `_`/`-` are a script (4 letters, `Latn`) or a region (2 letters or 3 digits); a bare
4-letter code made of an ISO 639-1 code and a region (`ptbr`) is split the same way.

A user code matches an available code when their languages are related and their scripts and
regions do not contradict each other (a missing subtag matches anything). Related, from the closest:

1. the same language;
2. the user named a macrolanguage and the corpus has its standard member (`ar` -> `arb`,
   `zh` -> `cmn`, `fa` -> `pes`; see `_MACROLANGUAGES`);
3. any other member of the user's macrolanguage (`ar` -> `ary`), or the macrolanguage of the
   member the user named (`swh` -> `swa`). Sister members never match each other.

An exact (case-insensitive) match of the whole code wins outright. Otherwise only the closest
level that has matches is kept; if that leaves several, those written in their language's default
script are kept (`_DEFAULT_SCRIPT`; a code without a script counts as written in the default one);
if still several, the code is ambiguous. So `ar` in SIB-200 is `arb_Arab` (standard member,
Arabic script) and `ar` in BRIGHTER (`arq`, `ary`) is ambiguous.
"""
from __future__ import annotations

import re
from typing import Iterable, NamedTuple


class UnknownLanguageError(ValueError):
    """A code names no available language, or several equally well."""

    def __init__(self, message: str, code: str, available: Iterable[str],
                 candidates: Iterable[str] = ()):
        super().__init__(message)
        self.code = code
        self.available = list(available)
        self.candidates = list(candidates)


# ISO 639-1, ISO 639-3, default script (ISO 15924). The default script is the one a text in the
# language is written in unless said otherwise; macrolanguage members inherit their
# macrolanguage's. Deprecated codes (bh, iw, in, ji, mo, sh) are in _ALIASES.
_ISO_639_1 = """
aa aar Latn  ab abk Cyrl  ae ave Avst  af afr Latn  ak aka Latn  am amh Ethi  an arg Latn
ar ara Arab  as asm Beng  av ava Cyrl  ay aym Latn  az aze Latn  ba bak Cyrl  be bel Cyrl
bg bul Cyrl  bi bis Latn  bm bam Latn  bn ben Beng  bo bod Tibt  br bre Latn  bs bos Latn
ca cat Latn  ce che Cyrl  ch cha Latn  co cos Latn  cr cre Cans  cs ces Latn  cu chu Cyrl
cv chv Cyrl  cy cym Latn  da dan Latn  de deu Latn  dv div Thaa  dz dzo Tibt  ee ewe Latn
el ell Grek  en eng Latn  eo epo Latn  es spa Latn  et est Latn  eu eus Latn  fa fas Arab
ff ful Latn  fi fin Latn  fj fij Latn  fo fao Latn  fr fra Latn  fy fry Latn  ga gle Latn
gd gla Latn  gl glg Latn  gn grn Latn  gu guj Gujr  gv glv Latn  ha hau Latn  he heb Hebr
hi hin Deva  ho hmo Latn  hr hrv Latn  ht hat Latn  hu hun Latn  hy hye Armn  hz her Latn
ia ina Latn  id ind Latn  ie ile Latn  ig ibo Latn  ii iii Yiii  ik ipk Latn  io ido Latn
is isl Latn  it ita Latn  iu iku Cans  ja jpn Jpan  jv jav Latn  ka kat Geor  kg kon Latn
ki kik Latn  kj kua Latn  kk kaz Cyrl  kl kal Latn  km khm Khmr  kn kan Knda  ko kor Hang
kr kau Latn  ks kas Arab  ku kur Latn  kv kom Cyrl  kw cor Latn  ky kir Cyrl  la lat Latn
lb ltz Latn  lg lug Latn  li lim Latn  ln lin Latn  lo lao Laoo  lt lit Latn  lu lub Latn
lv lav Latn  mg mlg Latn  mh mah Latn  mi mri Latn  mk mkd Cyrl  ml mal Mlym  mn mon Cyrl
mr mar Deva  ms msa Latn  mt mlt Latn  my mya Mymr  na nau Latn  nb nob Latn  nd nde Latn
ne nep Deva  ng ndo Latn  nl nld Latn  nn nno Latn  no nor Latn  nr nbl Latn  nv nav Latn
ny nya Latn  oc oci Latn  oj oji Cans  om orm Latn  or ori Orya  os oss Cyrl  pa pan Guru
pi pli Deva  pl pol Latn  ps pus Arab  pt por Latn  qu que Latn  rm roh Latn  rn run Latn
ro ron Latn  ru rus Cyrl  rw kin Latn  sa san Deva  sc srd Latn  sd snd Arab  se sme Latn
sg sag Latn  si sin Sinh  sk slk Latn  sl slv Latn  sm smo Latn  sn sna Latn  so som Latn
sq sqi Latn  sr srp Cyrl  ss ssw Latn  st sot Latn  su sun Latn  sv swe Latn  sw swa Latn
ta tam Taml  te tel Telu  tg tgk Cyrl  th tha Thai  ti tir Ethi  tk tuk Latn  tl tgl Latn
tn tsn Latn  to ton Latn  tr tur Latn  ts tso Latn  tt tat Cyrl  tw twi Latn  ty tah Latn
ug uig Arab  uk ukr Cyrl  ur urd Arab  uz uzb Latn  ve ven Latn  vi vie Latn  vo vol Latn
wa wln Latn  wo wol Latn  xh xho Latn  yi yid Hebr  yo yor Latn  za zha Latn  zh zho Hans
zu zul Latn
"""

# Macrolanguage: members, the standard member first when there is one ("-" when there is none).
_MACROLANGUAGES_TABLE = """
aka: twi fat
ara: arb aao abh abv acm acq acw acx acy adf aeb aec afb ajp apc apd arq ars ary arz auz avl
     ayh ayl ayn ayp bbz pga shu ssh
aym: ayr ayc
aze: azj azb
cre: - crj crk crl crm csw cwd
est: ekk vro
fas: pes prs
ful: - ffm fub fuc fue fuf fuh fui fuq fuv
grn: gug gnw gui gun nhd
hbs: - bos cnr hrv srp
iku: ike ikt
ipk: esi esk
kau: knc kby krt
kok: gom knn
kom: kpv koi
kon: kng kwy ldi
kur: kmr ckb sdh
lav: lvs ltg
mlg: plt bhr bjq bmm bzc msh skg tdx tkg txy xmv xmw
mon: khk mvf
msa: zsm bjn btj bve bvu coa dup hji ind jak jax kvb kvr kxd lce lcf liw max meo mfa mfb min
     mly mqg msi mui orn ors pel pse tmw urk vkk vkt xmm zlm zmi
nep: npi dty
nor: nob nno
oji: - ciw ojb ojc ojg ojs ojw otw
ori: ory spv
orm: gaz gax hae orc
pus: pbt pbu pst
que: quy qub qud quf qug quh quk qul qup qur qus quw qux quz qva qvc qve qvh qvi qvj qvl qvm
     qvn qvo qvp qvs qvw qvz qwa qwc qwh qws qxa qxc qxh qxl qxn qxo qxp qxr qxt qxu qxw
sqi: als aae aat aln
srd: - sdc sdn src sro
swa: swh swc
uzb: uzn uzs
yid: ydd yih
zha: - zch zeh zgb zgm zgn zhd zhn zlj zln zlq zqe zyb zyg zyj zyn zzj
zho: cmn cdo cjy cnp cpx csp czh czo gan hak hsn lzh mnp nan wuu yue
"""

# Default scripts of languages outside the ISO 639-1 table, or differing from their
# macrolanguage's, where texts are commonly found in more than one script.
_DEFAULT_SCRIPT_EXTRA = {"ace": "Latn", "bjn": "Latn", "min": "Latn", "yue": "Hant"}

# Codes that are not ISO 639-3 but are used for languages: ISO 639-2/B, deprecated ISO 639-1,
# and corpus conventions (BRIGHTER: esp = Spanish, chn = Chinese).
_ALIASES = {
    "alb": "sqi", "arm": "hye", "baq": "eus", "bur": "mya", "chi": "zho", "cze": "ces",
    "dut": "nld", "fre": "fra", "geo": "kat", "ger": "deu", "gre": "ell", "ice": "isl",
    "mac": "mkd", "mao": "mri", "may": "msa", "per": "fas", "rum": "ron", "slo": "slk",
    "tib": "bod", "wel": "cym",
    "bh": "bih", "in": "ind", "iw": "heb", "ji": "yid", "mo": "ron", "sh": "hbs",
    "esp": "spa", "chn": "zho",
}


# English language names, as some corpora name their files (the MHAN toolkit's Deutsche Welle
# crawler writes english.json, german.json, ...).
_ENGLISH_NAMES = {
    "afrikaans": "afr", "albanian": "sqi", "amharic": "amh", "arabic": "ara", "armenian": "hye",
    "azerbaijani": "aze", "bengali": "ben", "bosnian": "bos", "bulgarian": "bul",
    "catalan": "cat", "chinese": "zho", "croatian": "hrv", "czech": "ces", "danish": "dan",
    "dari": "prs", "dutch": "nld", "english": "eng", "estonian": "est", "finnish": "fin",
    "french": "fra", "german": "deu", "greek": "ell", "hausa": "hau", "hebrew": "heb",
    "hindi": "hin", "hungarian": "hun", "igbo": "ibo", "indonesian": "ind", "italian": "ita",
    "japanese": "jpn", "korean": "kor", "latvian": "lav", "lithuanian": "lit",
    "macedonian": "mkd", "malay": "msa", "norwegian": "nor", "pashto": "pus", "persian": "fas",
    "farsi": "fas", "polish": "pol", "portuguese": "por", "romanian": "ron", "russian": "rus",
    "serbian": "srp", "slovak": "slk", "slovenian": "slv", "somali": "som", "spanish": "spa",
    "swahili": "swa", "swedish": "swe", "tamil": "tam", "thai": "tha", "tigrinya": "tir",
    "turkish": "tur", "ukrainian": "ukr", "urdu": "urd", "uzbek": "uzb", "vietnamese": "vie",
    "yoruba": "yor", "zulu": "zul",
}


def _parse_tables():
    iso1, default_script = {}, dict(_DEFAULT_SCRIPT_EXTRA)
    fields = _ISO_639_1.split()
    for two, three, script in zip(fields[0::3], fields[1::3], fields[2::3]):
        iso1[two] = three
        default_script.setdefault(three, script)
    macro_of, standard = {}, {}
    for entry in re.split(r"\n(?=\w+:)", _MACROLANGUAGES_TABLE.strip()):
        macro, members = entry.split(":")
        members = members.split()
        if members[0] != "-":
            standard[macro] = members[0]
        for member in members:
            if member != "-":
                macro_of[member] = macro
                default_script.setdefault(member, default_script.get(macro))
    return iso1, default_script, macro_of, standard


_ISO1_TO_3, _DEFAULT_SCRIPT, _MACRO_OF, _STANDARD_MEMBER = _parse_tables()


class _Code(NamedTuple):
    language: str
    script: str | None
    region: str | None


def _parse(code: str) -> _Code:
    parts = re.split(r"[-_]", code.strip())
    language, script, region = parts[0].lower(), None, None
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            script = part.title()
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            region = part.upper()
    if (len(parts) == 1 and len(language) == 4 and language.isalpha()
            and language[:2] in _ISO1_TO_3):
        language, region = language[:2], language[2:].upper()
    language = _ALIASES.get(language, _ENGLISH_NAMES.get(language, language))
    return _Code(_ISO1_TO_3.get(language, language), script, region)


def _closeness(wanted: str, have: str) -> int | None:
    """1 same language, 2 standard member of the wanted macrolanguage, 3 other relation."""
    if wanted == have:
        return 1
    if _MACRO_OF.get(have) == wanted:
        return 2 if _STANDARD_MEMBER.get(wanted) == have else 3
    if _MACRO_OF.get(wanted) == have:
        return 3
    return None


def _compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def resolve(code: str, available: Iterable[str]) -> str:
    """The member of `available` that `code` names; `UnknownLanguageError` if none or several."""
    available = list(available)
    for have in available:
        if have.lower() == code.strip().lower():
            return have
    wanted = _parse(code)
    matches = {}
    for have in available:
        parsed = _parse(have)
        level = _closeness(wanted.language, parsed.language)
        if (level is not None and _compatible(wanted.script, parsed.script)
                and _compatible(wanted.region, parsed.region)):
            matches.setdefault(level, []).append((have, parsed))
    if not matches:
        raise UnknownLanguageError(
            f"unknown language code {code!r}; available: {', '.join(sorted(available))}",
            code, available)
    candidates = matches[min(matches)]
    in_default_script = [
        (have, parsed) for have, parsed in candidates
        if parsed.script in (None, _DEFAULT_SCRIPT.get(parsed.language,
                                                       _DEFAULT_SCRIPT.get(wanted.language)))]
    if len(in_default_script) == 1:
        return in_default_script[0][0]
    if len(candidates) == 1:
        return candidates[0][0]
    names = sorted(have for have, _ in candidates)
    raise UnknownLanguageError(
        f"language code {code!r} is ambiguous: it matches {', '.join(names)}; give one of "
        f"them (available: {', '.join(sorted(available))})", code, available, names)


def resolve_all(codes: str | Iterable[str], available: Iterable[str]) -> list[str]:
    """`resolve` for each code (a list or a comma-separated string); "all" -> all of `available`.

    Order follows `codes` (with "all" in `available`'s order); duplicates are dropped.
    """
    available = list(available)
    if isinstance(codes, str):
        codes = codes.split(",")
    codes = [code.strip() for code in codes if code.strip()]
    if not codes:
        raise UnknownLanguageError(
            f"no language codes given; available: {', '.join(sorted(available))}", "",
            available)
    resolved = []
    for code in codes:
        for lang in (available if code.lower() == "all" else [resolve(code, available)]):
            if lang not in resolved:
                resolved.append(lang)
    return resolved
