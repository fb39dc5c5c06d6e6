"""People: roles (resident, faculty, editor) and their permissions, profiles and display names, invitations and
sign-ups, logins with their lock, and the limits on e-mailed links."""
