"""The domain: petitions, cases and their state machine, routing. Standard library only."""
