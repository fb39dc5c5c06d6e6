"""Demonstration content: synthetic DICOM studies with planted fake identifiers, drawn phantoms, and the
``load_demo`` / ``load_demo_quizzes`` commands that put the demo topic, cases and quizzes into a database.

Nothing of the product imports it at run time: a production site does not install it (settings/prod.py).
"""
