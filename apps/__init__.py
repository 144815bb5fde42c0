"""The applications kami hosts, one package each, plus the shared migration history."""
