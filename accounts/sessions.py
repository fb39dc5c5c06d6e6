"""Sessions in the database as Django keeps them, read by SQL compiled once per connection.

Every request of a logged-in reader reads its session (``teachingfile.compiled_reads``). Whether a session has
expired is asked of the database's clock (``Now()``) rather than the web server's, so that the read holds no value
but the key.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import router
from django.db.models.functions import Now

from teachingfile.compiled_reads import CompiledRead

_SESSION_DATA = CompiledRead(
    lambda key: Session.objects.filter(session_key=key, expire_date__gt=Now()).values_list("session_data"),
    "session-key",
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        rows = _SESSION_DATA.rows(self.session_key, using=router.db_for_read(Session)) if self.session_key else []
        if not rows:
            self._session_key = None
            return None
        return Session(session_key=self.session_key, session_data=rows[0][0])
