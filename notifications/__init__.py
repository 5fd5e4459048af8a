"""What is said and how it travels: message types, templates, channel routing, the delivery ledger.

Empty until the notifications issue; the package exists so the layout and packaging are fixed now.
"""
