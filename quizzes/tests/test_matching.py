"""Tests for quizzes.matching: marking a typed diagnosis against a topic's name and synonyms."""

import pytest

from quizzes.matching import MAX_ANSWER_LENGTH, Verdict, mark_diagnosis, normalise

NAME = "Heterotopic ossification"
SYNONYMS = (
    "HO",
    "heterotopic bone",
    "ectopic ossification",
    "myositis ossificans (historical term)",
    "neurogenic heterotopic ossification",
)


def mark(answer: str) -> Verdict:
    return mark_diagnosis(answer, NAME, SYNONYMS)


# --------------------------------------------------------------------------
# normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Heterotopic  Ossification", "heterotopic ossification"),
        ("  Hétérotopic\tossification ", "heterotopic ossification"),
        ("heterotopic-ossification.", "heterotopic ossification"),
        ("Myositis ossificans (historical term)", "myositis ossificans"),
        ("Paget's disease", "paget disease"),
        ("H.O.", "ho"),
        ("Bone marrow oedema", "bone marrow edema"),
        ("Haemangioma", "hemangioma"),
        ("Leukaemia", "leukemia"),
        ("Œsophageal atresia", "esophageal atresia"),
        ("Giant cell tumour", "giant cell tumor"),
    ],
)
def test_normalise_folds_case_accents_punctuation_remarks_and_spelling(text, expected):
    assert normalise(text) == expected


# --------------------------------------------------------------------------
# rule 1 and 3: exact matches and typos


@pytest.mark.parametrize(
    ("answer", "matched"),
    [
        ("Heterotopic ossification", NAME),
        ("Heterotopic  Ossification", NAME),
        ("  HETEROTOPIC OSSIFICATION  ", NAME),
        ("Hétérotopic ossification", NAME),
        ("heterotopic-ossification", NAME),
        ("heterotopic ossifications", NAME),  # a plural is not a typo
        ("heterotopic bone", "heterotopic bone"),
        ("heterotopic bones", "heterotopic bone"),
        ("ectopic ossification", "ectopic ossification"),
        ("myositis ossificans", "myositis ossificans (historical term)"),
        ("Myositis ossificans (historical term)", "myositis ossificans (historical term)"),
    ],
)
def test_name_or_synonym_after_normalisation_is_correct_without_typo(answer, matched):
    assert mark(answer) == Verdict(correct=True, expected=NAME, matched=matched, typo=False)


@pytest.mark.parametrize(
    ("answer", "matched"),
    [
        ("heterotopic ossificaton", NAME),
        ("hetertopic ossification", NAME),
        ("heterotropic ossification", NAME),
        ("hetrotopic osification", NAME),  # one typo in each word
        ("ectopic ossificaiton", "ectopic ossification"),  # a transposition counts once
    ],
)
def test_typos_within_tolerance_are_correct_and_flagged(answer, matched):
    assert mark(answer) == Verdict(correct=True, expected=NAME, matched=matched, typo=True)


@pytest.mark.parametrize(
    ("answer", "name", "correct"),
    [
        ("Gaut", "Gout", False),  # under 5 letters: exact only
        ("Lipomma", "Lipoma", True),  # 5–8 letters: one edit
        ("Lypomma", "Lipoma", False),
        ("condrosarcma", "Chondrosarcoma", True),  # 9 or more letters: two edits
        ("condrosrcma", "Chondrosarcoma", False),
    ],
)
def test_typo_tolerance_grows_with_word_length(answer, name, correct):
    assert mark_diagnosis(answer, name).correct is correct


# --------------------------------------------------------------------------
# rule 2: abbreviations


@pytest.mark.parametrize("answer", ["HO", "ho", "H.O.", "HO around both hips"])
def test_abbreviation_matches_as_a_whole_word(answer):
    assert mark(answer) == Verdict(correct=True, expected=NAME, matched="HO", typo=False)


def test_initials_of_a_multi_word_name_count_as_its_abbreviation():
    assert mark_diagnosis("HO", NAME).matched == "HO"


@pytest.mark.parametrize("answer", ["H0", "HOO", "OH"])
def test_abbreviation_never_matches_fuzzily(answer):
    assert not mark(answer).correct


@pytest.mark.parametrize(
    ("answer", "name", "matched"),
    [
        ("FOP", "Fibrodysplasia ossificans progressiva", "FOP"),
        ("fibrodysplasia ossificans progressiva", "FOP", "fibrodysplasia ossificans progressiva"),
        ("AVN of the femoral head", "Avascular necrosis", "AVN"),
        ("avascular necrosis", "AVN", "avascular necrosis"),
        ("DDH", "Developmental dysplasia of the hip", "DDH"),
        ("developmental dysplasia of the hip", "DDH", "developmental dysplasia of the hip"),
        ("scfe", "Slipped capital femoral epiphysis", "SCFE"),
        ("slipped capital femoral epiphysis", "SCFE", "slipped capital femoral epiphysis"),
        ("OA of the knee", "Osteoarthritis", "OA"),
        ("osteoarthritis", "OA", "osteoarthritis"),
        ("RA", "Rheumatoid arthritis", "RA"),
        ("rheumatoid arthritis", "RA", "rheumatoid arthritis"),
        ("DISH", "Diffuse idiopathic skeletal hyperostosis", "DISH"),
        ("diffuse idiopathic skeletal hyperostosis", "DISH", "diffuse idiopathic skeletal hyperostosis"),
        ("SCI", "Spinal cord injury", "SCI"),
        ("spinal cord injury", "SCI", "spinal cord injury"),
        ("GCT", "Giant cell tumour of bone", "GCT"),
        ("giant cell tumor", "Giant cell tumour of bone", "giant cell tumour"),  # via GCT
    ],
)
def test_abbreviation_table_works_both_ways(answer, name, matched):
    assert mark_diagnosis(answer, name) == Verdict(correct=True, expected=name, matched=matched, typo=False)


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        ("AS", True),
        ("A.S.", True),
        ("as", False),
        ("such as osteosarcoma", False),
    ],
)
def test_abbreviation_spelling_a_common_word_counts_only_in_capitals(answer, correct):
    assert mark_diagnosis(answer, "Ankylosing spondylitis").correct is correct


def test_initials_spelling_a_common_word_are_not_derived():
    assert not mark_diagnosis("an osteosarcoma", "Avascular necrosis").correct


# --------------------------------------------------------------------------
# rule 4: extra words


@pytest.mark.parametrize(
    "answer",
    [
        "bilateral heterotopic ossification of the hips",
        "Findings: extensive heterotopic ossification.",
        "probably neurogenic heterotopic ossification after the spinal cord injury",
        "osteosarcoma (HO)",
    ],
)
def test_accepted_name_among_extra_words_is_correct(answer):
    assert mark(answer).correct


# --------------------------------------------------------------------------
# rule 5: negation


@pytest.mark.parametrize(
    "answer",
    [
        "not heterotopic ossification",
        "no HO",
        "without heterotopic ossification",
        "no evidence of HO",
        "rule out heterotopic ossification",
        "r/o HO",
        "R.O. HO",
        "unlikely to be HO",
        "HO unlikely",
        "HO ruled out",
        "osteosarcoma (not HO)",
    ],
)
def test_negated_name_is_wrong(answer):
    assert mark(answer) == Verdict(correct=False, expected=NAME, matched=None, typo=False)


def test_non_attached_to_the_name_negates_it():
    assert not mark_diagnosis("non-ossifying fibroma", "Ossifying fibroma").correct


@pytest.mark.parametrize(
    "answer",
    [
        "no fracture, HO",
        "not osteosarcoma but heterotopic ossification",
        "osteosarcoma unlikely; heterotopic ossification",
        "non-neurogenic heterotopic ossification",  # "non" only reaches the word it is attached to
    ],
)
def test_negation_does_not_reach_across_a_clause_or_past_its_word(answer):
    assert mark(answer).correct


# --------------------------------------------------------------------------
# rule 6: limits


@pytest.mark.parametrize("answer", ["", "   ", "\n\t", "()", "?"])
def test_empty_or_blank_answer_is_wrong(answer):
    assert mark(answer) == Verdict(correct=False, expected=NAME, matched=None, typo=False)


def test_answer_is_cut_to_the_maximum_length_before_marking():
    assert mark("HO " + "x" * 300).correct
    assert not mark("x" * MAX_ANSWER_LENGTH + " HO").correct


def test_empty_name_is_refused():
    with pytest.raises(ValueError, match="empty"):
        mark_diagnosis("HO", "  ", SYNONYMS)


# --------------------------------------------------------------------------
# rule 7: wrong stays wrong


@pytest.mark.parametrize(
    "answer",
    [
        "osteosarcoma",
        "osteoma",
        "heterotopic pancreas",
        "ossification",
        "myositis",
        "heterotopic calcification",
        "fibrodysplasia ossificans progressiva",
        "heterotopicossification",
        "ossifying myositis",
    ],
)
def test_wrong_answer_is_wrong(answer):
    assert mark(answer) == Verdict(correct=False, expected=NAME, matched=None, typo=False)


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("bone marrow oedema", "Bone marrow edema"),
        ("haemangioma", "Hemangioma"),
        ("hemangioma", "Haemangioma"),
        ("leukemia", "Leukaemia"),
    ],
)
def test_british_and_american_spellings_match_exactly(answer, name):
    assert mark_diagnosis(answer, name) == Verdict(correct=True, expected=name, matched=name, typo=False)
