"""Community use cases: accounts and sessions, votes, comments, submissions, paper links and
moderation. Plain Python over the store, the mailer and the arXiv client; no web code here.
"""

from dailypapers.community.policy import CommunityPolicy

__all__ = ["CommunityPolicy"]
