"""The reveal: refuses bad input, keeps the first answer, and remembers who revealed."""

import re
import struct
import zlib
from pathlib import PurePosixPath

import numpy as np
import pydicom
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pydicom.data import get_testdata_file

from cases import services, values
from cases.models import Annotation, CaseReference, Image, Reveal
from cases.tests.factories import make_case, make_dicom_image, make_image, make_series, make_topic, pass_gates


@pytest.fixture
def case(db):
    return make_case(findings=["A hidden finding"])


def test_reveal_without_csrf_token_is_refused_and_nothing_saved(case, resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident)
    response = client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "guess"})
    assert response.status_code == 403
    assert not Reveal.objects.exists()


def test_over_long_answer_is_refused_with_a_message_and_nothing_saved(case, client, resident):
    client.force_login(resident)
    response = client.post(
        reverse("cases:case-reveal", args=[case.number]),
        {"committed_answer": "x" * 201},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    assert not Reveal.objects.exists()


def test_reveal_get_is_not_allowed(case, client, resident):
    client.force_login(resident)
    assert client.get(reverse("cases:case-reveal", args=[case.number])).status_code == 405
    assert not Reveal.objects.exists()


def test_first_committed_answer_is_kept(case, client, resident):
    client.force_login(resident)
    url = reverse("cases:case-reveal", args=[case.number])
    client.post(url, {"committed_answer": "first idea"})
    client.post(url, {"committed_answer": "changed after seeing it"})
    reveal = Reveal.objects.get()
    assert reveal.committed_answer == "first idea"
    page = client.get(case.get_absolute_url()).content.decode()
    assert "first idea" in page and case.diagnosis in page


def test_a_reference_is_a_link_once_revealed(case, client, resident):
    CaseReference.objects.create(case=case, citation="Brooker AF. 1973.", url="https://example.org/brooker")
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'Brooker AF. 1973. <a href="https://example.org/brooker" rel="noopener noreferrer">' in page


def test_revealed_case_appears_in_cases_i_have_done(case, client, resident):
    client.force_login(resident)
    done = reverse("cases:case-done-list")
    assert case.get_absolute_url() not in client.get(done).content.decode()
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "guess"})
    body = client.get(done).content.decode()
    assert case.get_absolute_url() in body and "guess" in body


def test_self_assessment_is_stored(case, client, resident):
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]))
    client.post(reverse("cases:case-assess", args=[case.number]), {"self_assessment": "missed"})
    assert Reveal.objects.get().self_assessment == "missed"


@override_settings(TEACHINGFILE_ANONYMOUS_BROWSING=True)
def test_anonymous_reveal_is_remembered_per_session(case):
    case.access = case.Access.PUBLIC
    case.save(update_fields=["access"])
    visitor, other_visitor = Client(), Client()
    visitor.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "anon guess"})
    assert case.diagnosis in visitor.get(case.get_absolute_url()).content.decode()
    assert case.diagnosis not in other_visitor.get(case.get_absolute_url()).content.decode()
    assert Reveal.objects.get().user is None


def test_preview_as_resident_hides_the_answer_from_the_author(db, faculty, client):
    case = make_case(authors=[faculty], status="draft")
    client.force_login(faculty)
    client.post(reverse("cases:case-reveal", args=[case.number]))
    assert case.diagnosis in client.get(case.get_absolute_url()).content.decode()
    preview = client.get(case.get_absolute_url() + "?preview=resident").content.decode()
    assert case.diagnosis not in preview
    assert "Preview" in preview


def test_edit_link_only_for_those_allowed(db, faculty, other_faculty, editor, resident):
    case = make_case(authors=[faculty])
    edit_url = reverse("admin:cases_case_change", args=[case.pk])
    for user, allowed in ((faculty, True), (editor, True), (other_faculty, False), (resident, False)):
        client = Client()
        client.force_login(user)
        assert (edit_url in client.get(case.get_absolute_url()).content.decode()) is allowed, user.username


def test_list_filters_by_modality_region_and_difficulty(db, client, resident):
    from cases.tests.factories import make_series

    ct_case = make_case(difficulty=4, region="chest")
    make_series(case=ct_case, modality="CT")
    xr_case = make_case(difficulty=2)
    make_series(case=xr_case, modality="XR")
    hidden_ct = make_case()
    make_series(case=hidden_ct, modality="CT", after_reveal=True)
    client.force_login(resident)
    listing = reverse("cases:case-list")

    def shown(query):
        return client.get(listing + query).content.decode()

    assert ct_case.get_absolute_url() in shown("?modality=CT")
    assert xr_case.get_absolute_url() not in shown("?modality=CT")
    assert hidden_ct.get_absolute_url() not in shown("?modality=CT"), "hidden stages must not be searchable"
    assert ct_case.get_absolute_url() in shown("?region=chest")
    assert xr_case.get_absolute_url() in shown("?difficulty=2")
    assert ct_case.get_absolute_url() not in shown("?difficulty=2")
    assert client.get(listing + "?difficulty=banana").status_code == 200


def test_media_names_that_are_not_stored_names_are_404_before_any_image_query(client, resident):
    client.force_login(resident)
    for name in ("images/a%00b.png", "images/../../etc/passwd", "images/zz/not-hex.png"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/media/{name}").status_code == 404
        looked_up = [query["sql"] for query in queries.captured_queries if '"cases_image"' in query["sql"]]
        assert looked_up == [], "the name is refused before the image table is asked (the 404 page may query)"


def test_pages_answer_head_requests(case, client, resident):
    client.force_login(resident)
    assert client.head(case.get_absolute_url()).status_code == 200
    assert client.head(reverse("cases:case-list")).status_code == 200


def test_one_bad_filter_keeps_the_others(db, client, resident):
    chest = make_case(region="chest")
    pelvis = make_case(region="pelvis")
    client.force_login(resident)
    body = client.get(reverse("cases:case-list") + "?region=chest&difficulty=x").content.decode()
    assert chest.get_absolute_url() in body and pelvis.get_absolute_url() not in body


def test_image_values_are_the_real_world_values_of_the_stored_dicom(client, resident):
    case = make_case()
    image = make_dicom_image(series=make_series(case=case))
    client.force_login(resident)
    response = client.get(reverse("cases:image-values", args=[image.pk]))

    assert response.status_code == 200 and response["X-Values-Type"] == "int16"
    assert response["X-Values-Inverted"] == "0", "CT_small is MONOCHROME2"
    values = np.frombuffer(zlib.decompress(response.content), dtype="<i2").reshape(128, 128)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm", download=False))
    expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(values, expected)


def test_an_uploaded_picture_has_no_values(client, resident):
    image = make_image(series=make_series(case=make_case()))
    client.force_login(resident)
    assert client.get(reverse("cases:image-values", args=[image.pk])).status_code == 404


def annotated_case():
    case = make_case()
    shown = make_image(series=make_series(case=case))
    hidden = make_image(series=make_series(case=case, after_reveal=True))
    for image, after_reveal in ((shown, False), (shown, True), (hidden, False)):
        Annotation.objects.create(
            image=image,
            kind="text",
            x1=0.1,
            y1=0.2,
            x2=0.1,
            y2=0.2,
            label=f"mark {after_reveal}",
            after_reveal=after_reveal,
        )
    return case, shown, hidden


def viewer_data(client, case, query=""):
    response = client.get(reverse("cases:case-viewer-data", args=[case.number]) + query)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
    return response.json()


def test_viewer_data_holds_back_hidden_stages_and_annotations_until_the_reveal(client, resident):
    case, shown, hidden = annotated_case()
    client.force_login(resident)
    before = viewer_data(client, case)
    assert [series["id"] for series in before["series"]] == [shown.series_id]
    shown_mark = shown.annotations.get(after_reveal=False)
    assert before["series"][0]["images"][0]["annotations"] == [
        {"kind": "text", "points": [0.1, 0.2, 0.1, 0.2], "label": "mark False", "id": shown_mark.pk}
    ]
    assert before["series"][0]["images"][0]["values"] is None, "an uploaded picture has no values"

    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    after = viewer_data(client, case)
    assert [series["id"] for series in after["series"]] == [shown.series_id, hidden.series_id]
    assert [mark["label"] for mark in after["series"][0]["images"][0]["annotations"]] == ["mark False", "mark True"]
    assert after["series"][1]["images"][0]["src"] == reverse("cases:media-file", args=[hidden.file.name])


def test_viewer_data_in_preview_is_what_an_unrevealed_resident_gets(client, faculty):
    case, shown, _ = annotated_case()
    case.authors.add(faculty)
    client.force_login(faculty)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    assert len(viewer_data(client, case)["series"]) == 2
    preview = viewer_data(client, case, "?preview=resident")
    assert [series["id"] for series in preview["series"]] == [shown.series_id]


def test_viewer_page_shows_the_viewer_without_the_answer(client, resident):
    case, _, _ = annotated_case()
    client.force_login(resident)
    page = client.get(reverse("cases:case-viewer", args=[case.number])).content.decode()
    assert "data-viewer" in page and reverse("cases:case-viewer-data", args=[case.number]) in page
    assert case.diagnosis not in page and "mark True" not in page


def test_values_are_served_once_prepared_and_go_with_their_dicom(
    client, resident, monkeypatch, django_capture_on_commit_callbacks
):
    image = make_dicom_image(series=make_series(case=make_case()), prepare_values=False)
    client.force_login(resident)
    url = reverse("cases:image-values", args=[image.pk])
    prepared = f"values/{PurePosixPath(image.dicom_file.name).stem}/1.bin"
    with monkeypatch.context() as patched:
        patched.setattr(pydicom, "dcmread", lambda *args, **kwargs: pytest.fail("a request decoded the DICOM"))
        assert client.get(url).status_code == 404, "not prepared yet: the viewer shows the web image"
        stream = client.get(reverse("cases:series-values", args=[image.series_id]))
        assert b"".join(stream.streaming_content) == struct.pack("<IIB", image.pk, 0, 0)
    assert not default_storage.exists(prepared), "a request never writes"

    assert values.series_prepare_values(series=image.series) == 1
    assert values.series_prepare_values(series=image.series) == 0, "prepared once"
    served = client.get(url).content
    whole = default_storage.open(prepared).read()
    assert served == whole[5:]
    default_storage.delete(prepared)
    default_storage.save(prepared, ContentFile(whole[:-10]))  # as if still being written
    assert client.get(url).status_code == 404, "a partial file is not served"
    assert values.series_prepare_values(series=image.series) == 1, "a partial file is prepared again"
    assert default_storage.open(prepared).read() == whole

    default_storage.delete(image.dicom_file.name)  # the prepared values answer on their own
    assert client.get(url).content == served
    with django_capture_on_commit_callbacks(execute=True):
        services.image_delete(image=image)
    assert not default_storage.exists(prepared)


def test_series_values_stream_every_slice_nearest_first(client, resident):
    series = make_series(case=make_case(), modality="CT")
    images = [make_dicom_image(series=series, order=order) for order in range(3)]
    images.append(make_image(series=series, order=3))  # an uploaded picture: a record without values
    client.force_login(resident)
    response = client.get(reverse("cases:series-values", args=[series.pk]) + "?around=2")
    body = b"".join(response.streaming_content)

    records, offset = [], 0
    while offset < len(body):
        pk, length, flags = struct.unpack_from("<IIB", body, offset)
        records.append((pk, length, flags, body[offset + 9 : offset + 9 + length]))
        offset += 9 + length
    assert [pk for pk, *_ in records] == [images[2].pk, images[1].pk, images[3].pk, images[0].pk]
    single = client.get(reverse("cases:image-values", args=[images[1].pk])).content
    assert records[1][1:] == (len(single), 0, single)
    assert records[2][1] == 0


def test_series_values_refuse_a_stage_shown_after_the_reveal(client, resident):
    case = make_case()
    hidden = make_series(case=case, after_reveal=True)
    make_dicom_image(series=hidden)
    client.force_login(resident)
    url = reverse("cases:series-values", args=[hidden.pk])
    assert client.get(url).status_code == 404
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": ""})
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("around", ["²", "9" * 5000, "-3", "x"])
def test_series_values_take_any_around_without_failing(client, resident, around):
    series = make_series(case=make_case(), modality="CT")
    image = make_dicom_image(series=series)
    client.force_login(resident)
    response = client.get(reverse("cases:series-values", args=[series.pk]), {"around": around})
    assert response.status_code == 200
    assert struct.unpack_from("<I", b"".join(response.streaming_content))[0] == image.pk


@override_settings(TEACHINGFILE_ANONYMOUS_BROWSING=True)
def test_access_levels_decide_who_opens_and_lists_a_case(client, resident, faculty, editor):
    public, institution = make_case(access="public"), make_case(access="institution")
    private = make_case(access="private", authors=[faculty])
    image = make_dicom_image(series=make_series(case=private))
    expected = {
        None: {public: 200, institution: 404, private: 404},
        resident: {public: 200, institution: 200, private: 404},
        faculty: {public: 200, institution: 200, private: 200},
        editor: {public: 200, institution: 200, private: 200},
    }
    for user, cases in expected.items():
        client.logout()
        if user is not None:
            client.force_login(user)
        listing = client.get(reverse("cases:case-list")).content.decode()
        for case, status in cases.items():
            assert client.get(case.get_absolute_url()).status_code == status, (user, case.access)
            if case.access != "private":  # a private case is listed nowhere: it is reached from the authoring screen
                assert (case.get_absolute_url() in listing) == (status == 200), (user, case.access)
        media = client.get(reverse("cases:media-file", args=[image.file.name])).status_code
        assert media == cases[private], "a private case's images follow its page"


def test_the_topic_list_counts_no_cases_and_a_topic_lists_only_those_the_reader_may_open(client, resident):
    """A count such as "3 cases" on a site of 3 cases would name the diagnosis of every unknown."""
    topic = make_topic()
    shown = make_case(topic=topic, access="institution")
    private = make_case(topic=topic, access="private")
    client.force_login(resident)
    listing = client.get(reverse("cases:topic-list")).content.decode()
    assert topic.name in listing
    assert not re.search(r"\d+ cases?\b", listing)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert shown.get_absolute_url() in page and private.get_absolute_url() not in page


def test_a_held_image_is_refused_to_readers_at_its_file_urls_and_values(client, resident, faculty):
    image = make_dicom_image(series=make_series(case=make_case(authors=[faculty])))
    urls = [
        reverse("cases:media-file", args=[image.file.name]),
        reverse("cases:media-file", args=[image.thumbnail.name]),
        reverse("cases:image-values", args=[image.pk]),
    ]
    client.force_login(resident)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]
    Image.objects.filter(pk=image.pk).update(held_for_review=True)
    assert [client.get(url).status_code for url in urls] == [404, 404, 404], "burned-in text may name the patient"
    client.force_login(faculty)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200], "the author checks it"


def test_viewer_data_carries_the_window_presets_of_each_stage(client, resident):
    case = make_case()
    pelvis = make_series(case=case, modality="CT", body_part="PELVIS")
    head = make_series(case=case, modality="CT", body_part="HEAD")
    radiograph = make_series(case=case)
    for series in (pelvis, head, radiograph):
        make_image(series=series)
    client.force_login(resident)
    presets = {series["id"]: series["presets"] for series in viewer_data(client, case)["series"]}
    # Hand-checked against Radiopaedia's "Windowing (CT)": the viewer has no table of its own.
    assert presets[pelvis.pk] == [
        {"name": "Soft tissue", "center": 40, "width": 400},
        {"name": "Bone", "center": 400, "width": 1800},
        {"name": "Lung", "center": -600, "width": 1500},
        {"name": "Brain", "center": 40, "width": 80},
    ]
    assert [preset["name"] for preset in presets[head.pk]] == ["Brain", "Bone", "Soft tissue"]
    assert presets[radiograph.pk] == []


def test_a_stage_whose_label_is_unconfirmed_is_hidden_from_readers_everywhere(client, resident, faculty):
    case = make_case(authors=[faculty])
    image = make_dicom_image(series=make_series(case=case, label_confirmed=False))
    urls = [
        reverse("cases:media-file", args=[image.file.name]),
        reverse("cases:image-values", args=[image.pk]),
        reverse("cases:series-values", args=[image.series_id]),
    ]
    client.force_login(resident)
    assert [client.get(url).status_code for url in urls] == [404, 404, 404], "the import's label may name the answer"
    assert viewer_data(client, case)["series"] == []
    client.force_login(faculty)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200], "the author checks it"


def differential_fieldset(page: str) -> str:
    return re.search(r'<fieldset class="differential-fields">.*?</fieldset>', page, re.S).group()


def test_the_differential_boxes_are_the_same_on_every_unknown_and_name_no_topic(client, resident):
    client.force_login(resident)
    for number in ("tf101", "tf102"):
        pass_gates(client, number)
    pages = [client.get(reverse("cases:case-detail", args=[number])).content.decode() for number in ("tf101", "tf102")]
    pages.append(client.get(make_case().get_absolute_url()).content.decode())
    fieldsets = {differential_fieldset(page) for page in pages}
    assert len(fieldsets) == 1
    (fieldset,) = fieldsets
    assert f'<datalist id="differential-names" data-src="{reverse("cases:topic-names")}"></datalist>' in fieldset
    assert "ossification" not in fieldset.lower()


def test_the_topic_names_are_every_topics_names(client, resident):
    make_topic(name="Osteoid osteoma", synonyms="OO")
    client.force_login(resident)
    response = client.get(reverse("cases:topic-names"))
    names = response.json()["names"]
    assert {"Heterotopic ossification", "HO", "Osteoid osteoma", "OO"} <= set(names)
    assert response["Cache-Control"] == "private, max-age=300"


def test_the_revealed_case_marks_each_entry_of_the_differential_and_escapes_it(client, resident):
    client.force_login(resident)
    pass_gates(client, "tf101")
    response = client.post(
        reverse("cases:case-reveal", args=["tf101"]),
        {"differential_1": "HO", "differential_2": "osteosarcoma", "differential_3": "<script>alert(1)</script>"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    fragment = response.content.decode()
    items = re.findall(r'<li class="mark-([a-z-]+)">(.*?)</li>', fragment)
    assert [(mark, re.sub(r"<[^>]+>", "", text)) for mark, text in items] == [
        ("diagnosis", "HO the diagnosis"),
        ("differential", "osteosarcoma in the differential"),  # no note: written as the author wrote it
        ("not-listed", "&lt;script&gt;alert(1)&lt;/script&gt; not listed"),
    ]
    assert "<script>alert" not in fragment
    page = client.get(reverse("cases:case-detail", args=["tf101"])).content.decode()
    assert page.count('<li class="mark-') == 3


def test_a_reveal_without_a_differential_shows_no_differential_of_the_reader(case, client, resident):
    client.force_login(resident)
    client.post(reverse("cases:case-reveal", args=[case.number]), {"committed_answer": "a guess"})
    assert "Your differential" not in client.get(case.get_absolute_url()).content.decode()


def test_an_over_long_differential_entry_is_refused_with_a_message_and_nothing_saved(case, client, resident):
    client.force_login(resident)
    response = client.post(
        reverse("cases:case-reveal", args=[case.number]),
        {"committed_answer": "HO", "differential_3": "x" * 201},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400
    assert response.content.decode() == "Differential 3 is too long: keep it to 200 characters (it has 201)."
    assert not Reveal.objects.exists()
