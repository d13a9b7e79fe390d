"""The sample stack's own scenario helpers: its orders, its consumer wrappers, its projection checks.

Why here and not in `harness/`: an "order" (and a negative amount as its poison), the projection
table and the failure handler's archive prefix belong to this repository's sample stack (`infra/`,
`lambdas/`). The harness core judges any stack without them; the sample's scenario files add
these checks on top, the way a team adds its own.
"""
