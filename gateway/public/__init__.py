"""Published answers: a public, read-only page and JSON feed of the answers both the citizen
(`PublishConsent`) and the answering unit (`Publish`) agreed to make public — question, answer,
answering unit, date and a signed copy of the letter — with the sender's personal data removed.

    routes.py       GET /public/answers (HTML), /public/answers/{PetitionId}, /public/answers.json,
                    /public/answers/{PetitionId}/{AnswerId}.pdf; no login, nothing written
    answers.py      the service: the store's candidates → checked, redacted, searched, paged
    redaction.py    the sender's personal data out of every text shown (pure)
    letter_copy.py  the public copy of the letter, rendered without the addressee, signed (PAdES)
    errors.py       this component's exception tree
"""
