"""The deployer's errors, in their own module so intrinsics, handlers and apply share them
without importing each other."""

from __future__ import annotations


class DeployError(RuntimeError):
    """The template could not be applied; the message names the logical ID and what is wrong."""


class UnsupportedResourceError(DeployError):
    """A resource type the local deployer cannot create; raised before anything is created."""


class IntrinsicError(DeployError):
    """An intrinsic function could not be resolved (unknown reference, bad arguments, ImportValue...)."""


class DependencyCycleError(DeployError):
    """Resources reference each other in a loop, so no creation order exists."""
