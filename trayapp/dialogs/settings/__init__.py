"""The settings and onboarding window: a pure model (model.py, forms.py) and one Tk view per page."""
