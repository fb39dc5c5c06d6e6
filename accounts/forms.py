"""Forms of the account pages: the profile, the e-mail address, and sign-up."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from .models import Profile, TrainingLevel


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "training_level"]
        help_texts = {"display_name": "Shown to others instead of your username. Leave blank to show your name."}


class EmailChangeForm(forms.Form):
    """A new address, and the password: an open session left on a shared workstation cannot take the account."""

    email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        help_text="We send a link to this address; your address changes when you open it.",
    )
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email.casefold() == (self.user.email or "").casefold():
            raise forms.ValidationError("This is your address already.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Your password was not right. Type it again.")
        return password


class ActivationForm(forms.Form):
    """The password chosen at sign-up: whoever set up the account, not only whoever reads the address, activates it."""

    password = forms.CharField(
        label="The password you chose when signing up",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SignUpForm(UserCreationForm):
    """Username, e-mail, the name to show, training level, and the password twice."""

    email = forms.EmailField(
        label="E-mail address", help_text="Used to reset your password if you forget it.", max_length=254
    )
    display_name = forms.CharField(
        max_length=Profile._meta.get_field("display_name").max_length,
        help_text="Shown to others instead of your username, e.g. “Dr Riley Resident”.",
    )
    # Optional, as on the profile: "—" stores "not given".
    training_level = forms.ChoiceField(choices=[("", "—"), *TrainingLevel.choices], required=False)

    field_order = ["username", "display_name", "training_level", "email", "password1", "password2"]

    class Meta(UserCreationForm.Meta):
        fields = ["username", "email"]

    def __init__(self, *args, invited_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invited = bool(invited_email)
        if invited_email:
            # The invitation was sent to this address: the account keeps it.
            self.fields["email"].initial = invited_email
            self.fields["email"].disabled = True

    def clean_email(self) -> str:
        """Refuse an invited address that has an account; open sign-up answers the same whatever the address."""
        email = self.cleaned_data["email"]
        if self.invited and get_user_model()._default_manager.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail address already exists. Log in, or use “Forgot your password?”."
            )
        return email
