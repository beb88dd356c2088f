"""Maps: folium map building, the browser data layer and its controls, the offline basemap and export."""
