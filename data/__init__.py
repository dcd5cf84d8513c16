"""Embedded OSM extracts (© OpenStreetMap contributors, ODbL 1.0), installed as ``fibreplan._demo_data``."""
