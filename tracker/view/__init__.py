"""Views of tracker data: HTML for notebooks (:mod:`.html`), text for terminals (:mod:`.text`)."""
