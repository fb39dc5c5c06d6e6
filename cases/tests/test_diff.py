"""The word-by-word difference shown to editors."""

from cases.diff import diff_html


def test_changed_words_are_marked_and_the_rest_kept_as_typed():
    html = diff_html("Bone around\nthe hip.", "Bone around\nthe knee.")
    assert html == "Bone around\nthe <del>hip.</del><ins>knee.</ins>"


def test_every_piece_is_escaped_none_rendered():
    html = diff_html("<i>old</i> & kept", "<script>alert(1)</script> & kept")
    assert "<script>" not in html and "<i>" not in html
    assert html == "<del>&lt;i&gt;old&lt;/i&gt;</del><ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins> &amp; kept"


def test_an_added_text_is_all_inserted():
    assert diff_html("", "New") == "<ins>New</ins>"
