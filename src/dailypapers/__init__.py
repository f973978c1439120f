"""dailypapers: a self-hostable research-papers hub modelled on Hugging Face Daily Papers."""

__version__ = "0.1.0"
