"""The hub's words in every language it speaks, from one gettext catalogue managed with Babel
(catalogue/locale/*.po, shared with the checkpoint app; docs/i18n.md says how to add a message). Message ids
are stable keys ("refusal.duplicate"); each language's .po holds the text, with `{name}` placeholders filled
by `text`."""
