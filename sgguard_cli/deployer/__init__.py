"""Packaging and deployment of the functions described by template.yaml (see docs/template.md).

``packaging`` builds reproducible zips; ``api`` wraps the FunctionGraph SDK calls; ``plan`` compares
the template with what is deployed and yields the changes; ``deploy`` applies them.
"""
