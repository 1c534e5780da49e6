"""Broker plumbing. The only package that imports kombu (pika only in operator tooling)."""

from shared.broker.port import Broker, Delivery, Outgoing, PublishFailed
from shared.broker.topology import CONSUMERS, Topology

__all__ = ["CONSUMERS", "Broker", "Delivery", "Outgoing", "PublishFailed", "Topology"]
