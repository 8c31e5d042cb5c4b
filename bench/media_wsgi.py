"""The store as the bench serves it: shop.wsgi, with /media/ served from MEDIA_ROOT.

In production the reverse proxy serves product pictures (README, "Deploying"); the bench has no
proxy, so without this its pages would show broken pictures, and the Lighthouse audit would
measure pages without them. Files are listed when a worker starts: seed before starting it.
"""

from django.conf import settings
from whitenoise import WhiteNoise

from shop.wsgi import application as store

application = WhiteNoise(store, root=settings.MEDIA_ROOT, prefix=settings.MEDIA_URL)
