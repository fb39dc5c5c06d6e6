"""The pure parts of the burned-in text check: which OCR words count, and the boxes drawn around them."""

import numpy as np
import pytest

from imaging.burned_in import MIN_CONFIDENCE, TextFound, Word, is_text, text_regions


@pytest.mark.parametrize(
    ("text", "confidence", "expected"),
    [
        ("DOE,", 96, True),
        ("8675309", 90, True),
        ("L", 96, False),  # a laterality marker
        ("RT", 96, False),
        ("LAT.", 96, False),
        ("PORTABLE", 96, False),
        ("Lmlo", 96, False),  # markers in any case
        ("a", 90, False),  # one character: noise or a marker, never a name
        ("ae", MIN_CONFIDENCE - 1, False),  # noise read as letters has a low confidence
        ("—", 99, False),
    ],
)
def test_which_words_count_as_text(text, confidence, expected):
    assert is_text(Word((0, 0, 10, 10), text, confidence)) is expected


def test_words_of_a_line_share_one_padded_box_and_lines_stay_apart():
    words = [
        Word((10, 10, 40, 20), "DOE,", 95),
        Word((60, 10, 50, 20), "JANE", 95),
        Word((10, 50, 40, 20), "MRN", 95),
        Word((70, 52, 12, 16), "a", 5),  # a weak piece on the same row joins its line
        Word((400, 50, 20, 20), "R", 96),  # a marker far away stays out
    ]
    assert text_regions(words) == [(5, 5, 110, 30), (5, 45, 82, 30)]


def test_boxes_are_scaled_to_the_image():
    assert text_regions([Word((10, 10, 40, 20), "DOE", 95)], scale=2.0, pad=0) == [(20, 20, 80, 40)]


def test_a_line_is_widened_over_the_rest_of_its_text():
    """White strokes continue the line to the right of what the OCR read: the box takes them in."""
    pixels = np.full((60, 200), 40, np.uint8)
    for x in range(10, 150, 6):  # strokes 2 px wide every 6 px: letters
        pixels[20:40, x : x + 2] = 255
    box = text_regions([Word((10, 20, 40, 20), "DOE", 95)], pixels=pixels, pad=0)
    assert box == [(10, 20, 140, 20)]


def test_a_missing_line_of_the_block_is_found_from_its_neighbour():
    pixels = np.full((100, 200), 40, np.uint8)
    for top in (20, 50):
        for x in range(10, 100, 6):
            pixels[top : top + 20, x : x + 2] = 255
    regions = text_regions([Word((10, 50, 92, 20), "MRN", 95)], pixels=pixels, pad=0)
    assert sorted(regions) == [(10, 20, 92, 20), (10, 50, 92, 20)]


def test_an_image_the_ocr_could_not_read_is_held():
    assert TextFound(regions=[], checked=False).held
    assert not TextFound(regions=[], checked=True).held
