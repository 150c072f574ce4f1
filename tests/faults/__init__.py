"""Fault scenarios (issue #9): a process killed, a connection dropped or a disk filled in the
middle of an operation. Each test shows nothing lost, nothing doubled, the audit chain
verifying and the books balancing afterwards.
"""
