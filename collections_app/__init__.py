"""Collections: ordered sets of cases (a rotation's curriculum, a board-review set, tomorrow's conference), shared
by faculty with groups or kept private by anyone, read as unknowns one after the other ("Next unknown")."""
