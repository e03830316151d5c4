"""Purchases after payment: delivery of what was bought to the buyer's private chat (albums of at
most 10, protected content, a single-use invite to the access chat) and the purchase's completion."""
