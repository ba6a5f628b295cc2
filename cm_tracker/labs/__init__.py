"""Lab results as labs send them (FHIR R4, HL7 v2 ORU^R01, CSV), read into one shape: pure parsing, no database.

Each format's reader turns a body into `LabObservation`s, one per result line the lab sent, each saying where in
the body it came from so that an error or a held result can name the line, segment or entry. `grouping` gathers the
observations of one accession into one specimen. Applying them to patients and specimens is the services' work.
"""
