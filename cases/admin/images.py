"""The image rows of a stage: upload (metadata removed), caption, mask rectangles and the annotation button."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from .. import services
from ..forms import mask_rectangles_from_text
from ..models import Image
from ..web_images import UnusableImage


class ImageForm(forms.ModelForm):
    upload = forms.FileField(
        required=False,
        allow_empty_file=True,  # refused in clean_upload, with the file's name
        help_text="PNG or JPEG. Metadata is removed and the file is stored under a random name.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )

    mask_rectangles = forms.CharField(
        required=False,
        max_length=2000,
        label="Mask",
        help_text="Rectangles to black out, in image pixels: “x,y,width,height; …”. Use “Draw mask”.",
        widget=forms.TextInput(attrs={"class": "mask-rectangles", "size": 18}),
    )

    class Meta:
        model = Image
        fields = [
            "order",
            "upload",
            "caption",
            "alt_text",
            "view",
            "time_after_injection",
            "pixel_spacing_mm",
            "is_key",
            "held_for_review",
        ]

    def clean_mask_rectangles(self) -> list[list[int]]:
        text = self.cleaned_data["mask_rectangles"]
        if text.strip() and not self.instance.pk:
            raise forms.ValidationError("Save the image first, then mask it.")
        return mask_rectangles_from_text(text, width=self.instance.width, height=self.instance.height)

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if not upload:
            if not self.instance.pk:
                raise forms.ValidationError("Choose a PNG or JPEG file.")
            return None
        try:
            self.prepared = services.image_prepare(upload)
        except UnusableImage as error:
            raise forms.ValidationError(f"{upload.name}: {error}") from error
        return upload

    def save(self, commit=True):
        image = super().save(commit=False)
        if getattr(self, "prepared", None) is not None:
            services.image_set_files(image=image, prepared=self.prepared)
        if commit:
            image.save()
        return image


class ImageInline(admin.TabularInline):
    model = Image
    form = ImageForm
    extra = 0
    template = "admin/cases/series/image_rows.html"

    class Media:
        js = [forms.Script("js/mask.js", type="module"), forms.Script("js/annotate.js", type="module")]
        css = {"all": ["css/mask.css", "css/annotate.css", "css/authoring.css"]}

    fields = ["thumbnail_preview", *ImageForm.Meta.fields, "mask_rectangles", "annotations_button"]
    readonly_fields = ["thumbnail_preview", "annotations_button"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(annotation_count=Count("annotations"))

    @admin.display(description="Image")
    def thumbnail_preview(self, image: Image) -> str:
        if not image.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt=""></a>',
            reverse("cases:media-file", args=[image.file.name]),
            reverse("cases:media-file", args=[(image.thumbnail or image.file).name]),
        )

    @admin.display(description="Annotations")
    def annotations_button(self, image: Image) -> str:
        if not image.pk:
            return "Save the image first."
        return format_html(
            '<button type="button" class="button annotate-open" aria-haspopup="dialog" data-url="{}" data-src="{}">'
            "Annotations ({})</button>",
            reverse("admin:cases_image_annotations", args=[image.pk]),
            reverse("cases:media-file", args=[image.file.name]),
            image.annotation_count,
        )
