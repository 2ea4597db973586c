"""What a transformer costs: presets, symbolic formulas, independent shape lists, checkpoint counts.

The ``cost`` topic (derive/topics/cost.py) is built from these modules; nothing here imports it.
"""
