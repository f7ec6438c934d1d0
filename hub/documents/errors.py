"""One exception for a printable document that cannot be made from what it was given."""


class DocumentError(ValueError):
    """Bad input for a PDF sheet; the message never holds personal data in clear."""
