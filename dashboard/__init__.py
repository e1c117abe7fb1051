"""The Streamlit operations dashboard: a live view of the hub that is itself a WebSocket client."""
