"""kizuna.hub: the TAXII 2.1 hub — organisations, keys, collections, access control."""
