"""The yearly cycle's operations: split, collect, export and the mail around them."""
