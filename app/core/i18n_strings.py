"""Strings that reach templates as data (enum values, titles, labels), marked for extraction."""

from app.core.errors import N_

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

CLAIMS = [
    # claim statuses
    N_("submitted"),
    N_("verified"),
    N_("waitlisted"),
    N_("allocated"),
    N_("ready"),
    N_("out_for_delivery"),
    N_("handed_over"),
    N_("rejected"),
    N_("cancelled"),
    N_("expired"),
    N_("out_of_stock"),  # a scan's not_ready answer when the reserved kit is missing
    # verification modes, campaign statuses, delivery reasons, fulfilment
    N_("roster"),
    N_("email"),
    N_("manual"),
    N_("draft"),
    N_("open"),
    N_("closed"),
    N_("quarantine"),
    N_("distance"),
    N_("pickup"),
    N_("delivery"),
    # navigation
    N_("Rounds, eligible schools, claim form links"),
    N_("Review, approve or reject; why each claim was decided"),
    N_("Opening slots and capacity at each pickup point"),
    N_("Pickup slots"),
    # form labels
    N_("School"),
    N_("Name as in passport"),
    N_("Chinese name"),
    N_("Birth date"),
    N_("School e-mail"),
    N_("Student number"),
    N_("Pickup point"),
    N_("Time slot"),
    N_("Latitude"),
    N_("Longitude"),
    N_("Consent"),
    N_("Address"),
]

NAVIGATION = [
    N_("Volunteers at points, scan log, offline conflicts, undo"),
    N_("Plan routes for the cars, adjust, dispatch, print, follow"),
]
