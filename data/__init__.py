"""Embedded OSM extracts (© OpenStreetMap contributors, ODbL 1.0).

Installed as ``fibreplan._demo_data``.
"""
