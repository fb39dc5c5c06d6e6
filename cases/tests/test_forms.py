"""The reveal form: what a reader commits to before the reveal."""

from django.forms.boundfield import BoundField

from cases.forms import CaseFilterForm, RevealForm


def test_the_differential_is_the_filled_boxes_in_order_cleaned_without_repeats():
    form = RevealForm(
        {
            "committed_answer": "HO",
            "differential_1": "  osteo \n sarcoma ",
            "differential_2": "",
            "differential_3": "Osteo Sarcoma",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["differential"] == ["osteo sarcoma"]


def test_every_box_is_optional():
    form = RevealForm({})
    assert form.is_valid() and form.cleaned_data["differential"] == []


def test_an_over_long_entry_is_refused_with_a_message_that_names_it():
    form = RevealForm({"differential_2": "x" * 201})
    assert not form.is_valid()
    assert form.first_error() == "Differential 2 is too long: keep it to 200 characters (it has 201)."


def test_the_boxes_suggest_from_the_page_list_and_say_their_rank():
    form = RevealForm()
    html = "".join(str(field) for field in form.differential_fields())
    assert html.count(f'list="{form.names_list}"') == 3 and html.count('maxlength="200"') == 3
    assert [field.label for field in form.differential_fields()] == [
        "Differential 1",
        "Differential 2",
        "Differential 3",
    ]


def test_a_blank_form_renders_as_django_would_and_a_filled_one_is_its_own():
    """The filter and reveal forms' blank widgets are rendered once per process (BlankFieldOnce): the same HTML as
    every request rendering them, and never what one reader typed."""
    for form_class in (CaseFilterForm, RevealForm):
        kept = {name: str(form_class()[name]) for name in form_class().fields}
        plain = form_class()
        plain.bound_field_class = BoundField
        assert kept == {name: str(BoundField(plain, field, name)) for name, field in plain.fields.items()}
        assert kept == {name: str(form_class()[name]) for name in form_class().fields}
    typed = CaseFilterForm({"region": "pelvis", "q": "osteoma"})
    assert 'value="pelvis" selected' in str(typed["region"]) and 'value="pelvis" selected' not in str(
        CaseFilterForm()["region"]
    )
    assert 'value="Brooker"' in str(RevealForm({"committed_answer": "Brooker"})["committed_answer"])
    assert "Brooker" not in str(RevealForm()["committed_answer"])
