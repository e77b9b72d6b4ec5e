"""Views of tracker data: HTML for notebooks (:mod:`.html`) and text for terminals (:mod:`.text`)."""
