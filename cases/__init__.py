"""Cases (办件): states, submission, pre-review, review, decision, deadlines, supervision."""
