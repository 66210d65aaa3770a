"""Privacy: erasure of one student, access exports, and retention (the purge of old campaigns).

The personal data of a student is on their claims (models.claims.PERSONAL_FIELDS) and roster
lines; everything the books need (ledger, scan log, runs, counts, audit) refers to a claim by
id and keeps its anonymous facts (status, school, campaign, minor or not, times).
"""
