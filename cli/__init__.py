"""The `kreiswissen` command on top of everything: wires the subcommand groups that live beside the
services they drive. Nothing imports this package."""
