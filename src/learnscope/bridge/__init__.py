"""Bridges to PyTorch, for learners who outgrow the NumPy engine: model exchange (torch_models). PyTorch is an
optional extra (`pip install learnscope[torch]`); only this package imports it, and only when called."""
