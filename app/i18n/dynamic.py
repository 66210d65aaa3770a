"""Strings that reach templates as data (enum values, titles, labels), marked for extraction."""

from app.errors import N_

DYNAMIC = [
    # location kinds
    N_("warehouse"),
    N_("pickup_point"),
    N_("vehicle"),
    # movement kinds
    N_("receive"),
    N_("transfer"),
    N_("assemble"),
    N_("reserve"),
    N_("release"),
    N_("issue"),
    N_("return"),
    N_("adjust"),
    # adjustment reasons
    N_("count_correction"),
    N_("damaged"),
    N_("lost"),
    N_("found"),
    N_("other"),
    # form titles
    N_("Receive a lot"),
    N_("Transfer stock"),
    N_("Assemble kits"),
    N_("Adjust a count"),
    # navigation tiles
    N_("Levels, expiry and low-stock warnings, receive and assemble"),
    N_("Masks, sanitizer, wipes, guides and kit recipes"),
    N_("Warehouse, pickup points and vehicles"),
    # form field labels
    N_("Item"),
    N_("Quantity"),
    N_("Location"),
    N_("From"),
    N_("To"),
    N_("Lot"),
    N_("Lot code"),
    N_("Expiry date"),
    N_("Reason"),
]
