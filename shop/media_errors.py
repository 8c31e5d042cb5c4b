"""What the media storage raises when it fails, apart from the storage itself (shop.storage):
the error pages need the class on every host, boto3 only the hosts that keep media on S3."""


class MediaStorageError(OSError):
    """The object storage could not be reached, or refused a call, after every try.

    An OSError, so code written for the local disk (which catches OSError around reads and
    deletes) treats an outage as it treats a missing or unreadable file.
    """
