"""Mark a typed diagnosis against a topic's name and synonyms.

Framework-free: strings in, a :class:`Verdict` out. The answer and every accepted form (the name, each
synonym, and the abbreviations derived from them) are compared after :func:`normalise`, word by word.

Rules, in the order they apply:

1. **Exact match.** After normalisation the answer contains the name or a synonym → correct. Normalising
   case-folds, strips accents (NFKD), turns punctuation and hyphens into spaces, drops possessives
   ("Paget's" = "Paget"), drops parenthetical remarks ("myositis ossificans (historical term)" is accepted as
   "myositis ossificans"), collapses whitespace and maps British spellings to American ones (``SPELLINGS``).
   "of" and "the" are ignored when comparing ("dysplasia of the hip" = "dysplasia hip").
2. **Abbreviations.** An abbreviation only matches exactly, as a whole word of the answer, never with typo
   tolerance. Abbreviations are the synonyms the author wrote in capitals ("HO", "FOP"), the initials of a
   multi-word topic name ("heterotopic ossification" → "HO") and ``ABBREVIATIONS``, which maps both ways
   (a topic named "FOP" accepts "fibrodysplasia ossificans progressiva" and the reverse). An abbreviation that
   is also a common English word ("AS" for ankylosing spondylitis) only counts when typed in capitals, and
   initials that spell such a word ("avascular necrosis" → "an") are not derived at all. Dotted forms count
   ("H.O." = "HO").
3. **Typos.** Each word of an accepted name may differ from the answer's word by an optimal string alignment
   (restricted Damerau–Levenshtein) distance of 0 for words under 5 letters, 1 for 5–8 letters and 2 for 9 or
   more; a plural ending ("-s", "-es") is not a typo. Every word of the accepted name must match, in order.
4. **Extra words.** The accepted name may sit anywhere in the answer as a contiguous run of words ("bilateral
   heterotopic ossification of the hips", "HO around both hips").
5. **Negation.** A run is not counted when "no", "not", "without", "rule out", "ruled out", "r/o" or
   "unlikely" ends within the three words before it, when "non" is attached to it ("non-ossifying fibroma" is
   not an ossifying fibroma, but "non-neurogenic heterotopic ossification" is heterotopic ossification), or
   when "unlikely", "excluded", "ruled out" or "not likely" follows within three words. Negation does not
   reach across a clause: punctuation (``, ; : . ? ! ( )``) and "but", "however", "rather", "instead" end
   it, so "not osteosarcoma but HO" is correct. The answer is correct when any run is not negated.
6. **Limits.** An empty or blank answer is wrong; answers longer than ``MAX_ANSWER_LENGTH`` characters are cut
   to that length before marking.
7. **Wrong stays wrong.** A part of a name is not the name ("ossification" alone), and a near word beyond the
   tolerance is a different word ("heterotopic calcification", "osteoma" for "osteosarcoma").

A known limit of rule 4: a different entity whose name contains the accepted one ("osteoid osteoma" for a
topic named "osteoma") is marked correct; list such answers' topics carefully.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

__all__ = ["ABBREVIATIONS", "MAX_ANSWER_LENGTH", "SPELLINGS", "Verdict", "mark_diagnosis", "normalise"]

MAX_ANSWER_LENGTH = 200

# British → American, applied inside words after case folding; both the answer and the accepted names go
# through it, so either spelling matches either.
SPELLINGS = (
    ("oedem", "edem"),  # oedema, myxoedema, oedematous
    ("haem", "hem"),  # haemangioma, haematoma, haemorrhage, haemochromatosis
    ("aemi", "emi"),  # anaemia, leukaemia, ischaemic, septicaemia
    ("oesoph", "esoph"),
    ("oestr", "estr"),
    ("paed", "ped"),  # paediatric, orthopaedic
    ("gynaec", "gynec"),
    ("caec", "cec"),
    ("coel", "cel"),  # coeliac
    ("foet", "fet"),
    ("rrhoea", "rrhea"),
    ("tumour", "tumor"),
    ("fibre", "fiber"),
    ("centre", "center"),
    ("sulph", "sulf"),
)

# Common radiology abbreviations and what they stand for; a topic accepts one for the other in both directions.
ABBREVIATIONS = {
    "ABC": ("aneurysmal bone cyst",),
    "AS": ("ankylosing spondylitis",),
    "AVN": ("avascular necrosis",),
    "DDH": ("developmental dysplasia of the hip",),
    "DISH": ("diffuse idiopathic skeletal hyperostosis",),
    "FOP": ("fibrodysplasia ossificans progressiva",),
    "GCT": ("giant cell tumour", "giant cell tumour of bone"),
    "HO": ("heterotopic ossification",),
    "NOF": ("non-ossifying fibroma",),
    "OA": ("osteoarthritis",),
    "PVNS": ("pigmented villonodular synovitis",),
    "RA": ("rheumatoid arthritis",),
    "SCFE": ("slipped capital femoral epiphysis",),
    "SCI": ("spinal cord injury",),
    "UBC": ("unicameral bone cyst",),
}

_IGNORED = frozenset({"of", "the"})
# Abbreviations that are also everyday words or units: typed in lower case they are the word, not the diagnosis.
_COMMON_WORDS = frozenset(
    {
        "a", "all", "an", "and", "any", "are", "as", "at", "be", "but", "by", "can", "cm", "do", "for", "go", "has",
        "he", "if", "in", "is", "it", "its", "kg", "me", "mg", "ml", "mm", "ms", "my", "no", "non", "not", "of",
        "on", "or", "so", "the", "to", "up", "us", "was", "we", "who",
    }
)  # fmt: skip
_NEGATIONS_BEFORE = frozenset({"no", "not", "without", "unlikely", "ro"})
_NEGATION_PAIRS_BEFORE = frozenset({("rule", "out"), ("ruled", "out"), ("r", "o")})
_NEGATIONS_AFTER = frozenset({"unlikely", "excluded"})
_NEGATION_PAIRS_AFTER = frozenset({("ruled", "out"), ("not", "likely")})
_NEGATION_REACH = 3

_LIGATURES = str.maketrans({"æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O"})
_PARENTHETICAL = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_DOTTED_INITIALISM = re.compile(r"\b[^\W\d_](?:\.[^\W\d_]\b)+\.?")  # "H.O.", "a.v.n", "r.o."
_POSSESSIVE = re.compile(r"['’](?:s\b)?")
_NOT_WORD = re.compile(r"[\W_]+")
_CLAUSE_BREAK = re.compile(r"[,;:!?()\[\]\n]|\.(?!\w)|\b(?:but|however|rather|instead)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Verdict:
    """The mark of one typed diagnosis."""

    correct: bool
    expected: str  # the canonical name, shown to the resident as what was expected
    matched: str | None  # the accepted name or abbreviation found in the answer; None when wrong
    typo: bool  # accepted only thanks to typo tolerance


@dataclass(frozen=True)
class _Form:
    words: tuple[str, ...]
    shown: str
    abbreviation: bool


def normalise(text: str) -> str:
    """Return ``text`` case-folded, without accents, punctuation or parenthetical remarks, in American spelling."""
    text = _strip_accents(text)
    text = _PARENTHETICAL.sub(" ", text)
    text = _undot(text).casefold()
    text = _NOT_WORD.sub(" ", _POSSESSIVE.sub("", text))
    for british, american in SPELLINGS:
        text = text.replace(british, american)
    return " ".join(text.split())


def mark_diagnosis(answer: str, name: str, synonyms: Sequence[str] = ()) -> Verdict:
    """Mark a typed diagnosis against a topic's name and synonyms (see the module docstring for the rules)."""
    expected = name.strip()
    if not _words(expected):
        raise ValueError("The name to mark against is empty.")
    forms = _accepted_forms(expected, tuple(synonyms))
    text = _undot(_strip_accents(answer[:MAX_ANSWER_LENGTH]))
    found = [_best_in_clause(clause, forms) for clause in _CLAUSE_BREAK.split(text) if clause and not clause.isspace()]
    best = min((match for match in found if match is not None), default=None)  # fewest typos, then earliest form
    if best is None:
        return Verdict(correct=False, expected=expected, matched=None, typo=False)
    distance, rank = best
    return Verdict(correct=True, expected=expected, matched=forms[rank].shown, typo=distance > 0)


def _best_in_clause(clause: str, forms: tuple[_Form, ...]) -> tuple[int, int] | None:
    words = normalise(clause).split()
    capitals = {word.casefold() for word in _WORD.findall(clause) if word.isupper()}
    compared = [(position, word) for position, word in enumerate(words) if word not in _IGNORED]
    best = None
    for rank, form in enumerate(forms):
        size = len(form.words)
        if form.abbreviation and size == 1 and form.words[0] in _COMMON_WORDS and form.words[0] not in capitals:
            continue
        for start in range(len(compared) - size + 1):
            run = compared[start : start + size]
            distance = _run_distance([word for _, word in run], form)
            if distance is None or (best is not None and (distance, rank) >= best):
                continue
            if not _negated(words, run[0][0], run[-1][0] + 1):
                best = (distance, rank)
    return best


def _run_distance(answer_words: list[str], form: _Form) -> int | None:
    total = 0
    for typed, accepted in zip(answer_words, form.words, strict=True):
        if typed == accepted or (not form.abbreviation and typed in (accepted + "s", accepted + "es")):
            continue
        if form.abbreviation:
            return None
        distance = _typo_distance(typed, accepted)
        if distance is None:
            return None
        total += distance
    return total


def _typo_distance(typed: str, accepted: str) -> int | None:
    """Return the optimal string alignment distance when it is within the tolerance for ``accepted``, else None."""
    limit = 0 if len(accepted) < 5 else 1 if len(accepted) <= 8 else 2
    if abs(len(typed) - len(accepted)) > limit or limit == 0:
        return None
    previous2: list[int] = []
    previous = list(range(len(accepted) + 1))
    for i, a in enumerate(typed, start=1):
        current = [i] + [0] * len(accepted)
        for j, b in enumerate(accepted, start=1):
            cost = a != b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a == accepted[j - 2] and typed[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return None
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else None


def _negated(words: list[str], start: int, end: int) -> bool:
    before = words[max(0, start - _NEGATION_REACH) : start]
    if any(word in _NEGATIONS_BEFORE for word in before) or (start and words[start - 1] == "non"):
        return True
    reach = words[max(0, start - _NEGATION_REACH - 1) : start]  # a two-word cue counts when it ends within reach
    if any(pair in _NEGATION_PAIRS_BEFORE for pair in pairwise(reach)):
        return True
    after = words[end : end + _NEGATION_REACH]
    return any(word in _NEGATIONS_AFTER for word in after) or any(
        pair in _NEGATION_PAIRS_AFTER for pair in pairwise(after)
    )


@lru_cache(maxsize=512)
def _accepted_forms(name: str, synonyms: tuple[str, ...]) -> tuple[_Form, ...]:
    """Return the name, the synonyms, then the abbreviations and expansions derived from them, without repeats."""
    forms: dict[tuple[str, ...], _Form] = {}

    def add(text: str, abbreviation: bool) -> bool:
        words = _words(text)
        if not words or words in forms:
            return False
        forms[words] = _Form(words, text.strip(), abbreviation)
        return True

    for text in (name, *synonyms):
        add(text, _written_as_abbreviation(text))
    canonical = _words(name)
    if len(canonical) > 1 and not _written_as_abbreviation(name):
        initials = "".join(word[0] for word in canonical)
        if initials not in _COMMON_WORDS:
            add(initials.upper(), True)
    linked = list(forms)
    while linked:  # follow the table both ways until nothing new turns up ("giant cell tumour of bone" → GCT → …)
        words = linked.pop()
        for text, abbreviation in [
            *((text, True) for text in _ABBREVIATION_OF.get(words, ())),
            *((text, False) for text in _EXPANSIONS.get(words, ())),
        ]:
            if add(text, abbreviation):
                linked.append(_words(text))
    return tuple(forms.values())


def _written_as_abbreviation(text: str) -> bool:
    letters = text.strip().replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalnum() and letters.isupper()


def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word in normalise(text).split() if word not in _IGNORED)


def _undot(text: str) -> str:
    return _DOTTED_INITIALISM.sub(lambda match: match.group().replace(".", ""), text)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def _index_abbreviations() -> tuple[dict[tuple[str, ...], tuple[str, ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    expansions = {_words(abbreviation): full for abbreviation, full in ABBREVIATIONS.items()}
    abbreviations: dict[tuple[str, ...], tuple[str, ...]] = {}
    for abbreviation, full in ABBREVIATIONS.items():
        for expansion in full:
            abbreviations[_words(expansion)] = (*abbreviations.get(_words(expansion), ()), abbreviation)
    return expansions, abbreviations


_EXPANSIONS, _ABBREVIATION_OF = _index_abbreviations()
