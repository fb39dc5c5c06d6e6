"""Quizzes: questions (single best answer, unknown case, click the finding), quizzes and their attempts,
scoring, the spaced-repetition review queue, and each resident's progress and a quiz's cohort results."""
