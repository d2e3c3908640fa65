"""Whether a document is valid against schemas/request.schema.json (generated; do not
edit: python -m notifierd.config.compiled_schemas.generate)."""
# ruff: noqa
# mypy: ignore-errors
SCHEMA_DIGEST = "bf741b6b136e8a24acf4f1387cec5386654d0f7f59777141a368788873b3caa2"
VERSION = "2.22.3"
from decimal import Decimal
import re
class JsonSchemaValueException(ValueError): pass
class JsonSchemaValuesException(ValueError): pass


REGEX_PATTERNS = {
    '^[^\\s]+$': re.compile('^[^\\s]+\\Z'),
    '^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?$': re.compile('^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?\\Z')
}

NoneType = type(None)

def validate_https___notifierd_dev_schemas_request_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_any_of_count1 = 0
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['title']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['message']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['template']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['kind', 'action']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
                data_keys = set(data.keys())
                if "kind" in data_keys:
                    data_keys.remove("kind")
                    data__kind = data["kind"]
                    if not (isinstance(data__kind, str) and data__kind == 'alert'):
                        raise JsonSchemaValueException("")
                if "action" in data_keys:
                    data_keys.remove("action")
                    data__action = data["action"]
                    if not (isinstance(data__action, str) and data__action == 'acknowledge' or isinstance(data__action, str) and data__action == 'resolve' or isinstance(data__action, str) and data__action == 'update'):
                        raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['kind', 'name']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
                data_keys = set(data.keys())
                if "kind" in data_keys:
                    data_keys.remove("kind")
                    data__kind = data["kind"]
                    if not (isinstance(data__kind, str) and data__kind == 'heartbeat'):
                        raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "id" in data_keys:
            data_keys.remove("id")
            data__id = data["id"]
            if not isinstance(data__id, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__id, str):
                data__id_len = len(data__id)
                if data__id_len < 1:
                    raise JsonSchemaValueException("")
                if data__id_len > 200:
                    raise JsonSchemaValueException("")
                if not REGEX_PATTERNS['^[^\\s]+$'].search(data__id):
                    raise JsonSchemaValueException("")
        if "kind" in data_keys:
            data_keys.remove("kind")
            data__kind = data["kind"]
            if not (isinstance(data__kind, str) and data__kind == 'notification' or isinstance(data__kind, str) and data__kind == 'alert' or isinstance(data__kind, str) and data__kind == 'heartbeat'):
                raise JsonSchemaValueException("")
        else: data["kind"] = 'notification'
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len < 1:
                    raise JsonSchemaValueException("")
                if data__name_len > 100:
                    raise JsonSchemaValueException("")
        if "action" in data_keys:
            data_keys.remove("action")
            data__action = data["action"]
            if not (isinstance(data__action, str) and data__action == 'trigger' or isinstance(data__action, str) and data__action == 'acknowledge' or isinstance(data__action, str) and data__action == 'resolve' or isinstance(data__action, str) and data__action == 'update'):
                raise JsonSchemaValueException("")
        if "title" in data_keys:
            data_keys.remove("title")
            data__title = data["title"]
            if not isinstance(data__title, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__title, str):
                data__title_len = len(data__title)
                if data__title_len > 1000:
                    raise JsonSchemaValueException("")
        if "message" in data_keys:
            data_keys.remove("message")
            data__message = data["message"]
            if not isinstance(data__message, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__message, str):
                data__message_len = len(data__message)
                if data__message_len > 100000:
                    raise JsonSchemaValueException("")
        if "template" in data_keys:
            data_keys.remove("template")
            data__template = data["template"]
            if not isinstance(data__template, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__template, str):
                if not REGEX_PATTERNS['^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?$'].search(data__template):
                    raise JsonSchemaValueException("")
        if "context" in data_keys:
            data_keys.remove("context")
            data__context = data["context"]
            if not isinstance(data__context, (dict)):
                raise JsonSchemaValueException("")
        if "priority" in data_keys:
            data_keys.remove("priority")
            data__priority = data["priority"]
            if not (isinstance(data__priority, str) and data__priority == 'low' or isinstance(data__priority, str) and data__priority == 'medium' or isinstance(data__priority, str) and data__priority == 'high' or isinstance(data__priority, str) and data__priority == 'critical'):
                raise JsonSchemaValueException("")
        if "severity" in data_keys:
            data_keys.remove("severity")
            data__severity = data["severity"]
            if not (isinstance(data__severity, str) and data__severity == 'info' or isinstance(data__severity, str) and data__severity == 'warning' or isinstance(data__severity, str) and data__severity == 'error' or isinstance(data__severity, str) and data__severity == 'critical'):
                raise JsonSchemaValueException("")
        if "channels" in data_keys:
            data_keys.remove("channels")
            data__channels = data["channels"]
            if not isinstance(data__channels, (list, tuple)):
                raise JsonSchemaValueException("")
            data__channels_is_list = isinstance(data__channels, (list, tuple))
            if data__channels_is_list:
                data__channels_len = len(data__channels)
                if data__channels_len < 1:
                    raise JsonSchemaValueException("")
                for data__channels_x, data__channels_item in enumerate(data__channels):
                    if not isinstance(data__channels_item, (str)):
                        raise JsonSchemaValueException("")
                    if isinstance(data__channels_item, str):
                        data__channels_item_len = len(data__channels_item)
                        if data__channels_item_len < 1:
                            raise JsonSchemaValueException("")
        if "recipients" in data_keys:
            data_keys.remove("recipients")
            data__recipients = data["recipients"]
            if not isinstance(data__recipients, (list, tuple)):
                raise JsonSchemaValueException("")
            data__recipients_is_list = isinstance(data__recipients, (list, tuple))
            if data__recipients_is_list:
                data__recipients_len = len(data__recipients)
                if data__recipients_len < 1:
                    raise JsonSchemaValueException("")
                for data__recipients_x, data__recipients_item in enumerate(data__recipients):
                    if not isinstance(data__recipients_item, (str)):
                        raise JsonSchemaValueException("")
                    if isinstance(data__recipients_item, str):
                        data__recipients_item_len = len(data__recipients_item)
                        if data__recipients_item_len < 1:
                            raise JsonSchemaValueException("")
        if "tags" in data_keys:
            data_keys.remove("tags")
            data__tags = data["tags"]
            if not isinstance(data__tags, (list, tuple)):
                raise JsonSchemaValueException("")
            data__tags_is_list = isinstance(data__tags, (list, tuple))
            if data__tags_is_list:
                data__tags_len = len(data__tags)
                for data__tags_x, data__tags_item in enumerate(data__tags):
                    if not isinstance(data__tags_item, (str)):
                        raise JsonSchemaValueException("")
        if "labels" in data_keys:
            data_keys.remove("labels")
            data__labels = data["labels"]
            if not isinstance(data__labels, (dict)):
                raise JsonSchemaValueException("")
            data__labels_is_dict = isinstance(data__labels, dict)
            if data__labels_is_dict:
                data__labels_keys = set(data__labels.keys())
                for data__labels_key in data__labels_keys:
                    if data__labels_key not in []:
                        data__labels_value = data__labels.get(data__labels_key)
                        if not isinstance(data__labels_value, (str, int, float, Decimal, bool)):
                            raise JsonSchemaValueException("")
        if "metadata" in data_keys:
            data_keys.remove("metadata")
            data__metadata = data["metadata"]
            if not isinstance(data__metadata, (dict)):
                raise JsonSchemaValueException("")
        if "source" in data_keys:
            data_keys.remove("source")
            data__source = data["source"]
            if not isinstance(data__source, (str)):
                raise JsonSchemaValueException("")
        if "protocol" in data_keys:
            data_keys.remove("protocol")
            data__protocol = data["protocol"]
            if not isinstance(data__protocol, (str)):
                raise JsonSchemaValueException("")
        if "dedup_key" in data_keys:
            data_keys.remove("dedup_key")
            data__dedupkey = data["dedup_key"]
            if not isinstance(data__dedupkey, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__dedupkey, str):
                data__dedupkey_len = len(data__dedupkey)
                if data__dedupkey_len < 1:
                    raise JsonSchemaValueException("")
                if data__dedupkey_len > 255:
                    raise JsonSchemaValueException("")
        if "escalation_policy" in data_keys:
            data_keys.remove("escalation_policy")
            data__escalationpolicy = data["escalation_policy"]
            if not isinstance(data__escalationpolicy, (str)):
                raise JsonSchemaValueException("")
        if "members" in data_keys:
            data_keys.remove("members")
            data__members = data["members"]
            if not isinstance(data__members, (list, tuple)):
                raise JsonSchemaValueException("")
            data__members_is_list = isinstance(data__members, (list, tuple))
            if data__members_is_list:
                data__members_len = len(data__members)
                if data__members_len > 10000:
                    raise JsonSchemaValueException("")
                for data__members_x, data__members_item in enumerate(data__members):
                    if not isinstance(data__members_item, (dict)):
                        raise JsonSchemaValueException("")
                    data__members_item_is_dict = isinstance(data__members_item, dict)
                    if data__members_item_is_dict:
                        data__members_item__missing_keys = set(['key', 'title', 'status']) - data__members_item.keys()
                        if data__members_item__missing_keys:
                            raise JsonSchemaValueException("")
                        data__members_item_keys = set(data__members_item.keys())
                        if "key" in data__members_item_keys:
                            data__members_item_keys.remove("key")
                            data__members_item__key = data__members_item["key"]
                            if not isinstance(data__members_item__key, (str)):
                                raise JsonSchemaValueException("")
                            if isinstance(data__members_item__key, str):
                                data__members_item__key_len = len(data__members_item__key)
                                if data__members_item__key_len < 1:
                                    raise JsonSchemaValueException("")
                                if data__members_item__key_len > 300:
                                    raise JsonSchemaValueException("")
                        if "title" in data__members_item_keys:
                            data__members_item_keys.remove("title")
                            data__members_item__title = data__members_item["title"]
                            if not isinstance(data__members_item__title, (str)):
                                raise JsonSchemaValueException("")
                            if isinstance(data__members_item__title, str):
                                data__members_item__title_len = len(data__members_item__title)
                                if data__members_item__title_len > 300:
                                    raise JsonSchemaValueException("")
                        if "status" in data__members_item_keys:
                            data__members_item_keys.remove("status")
                            data__members_item__status = data__members_item["status"]
                            if not (isinstance(data__members_item__status, str) and data__members_item__status == 'firing' or isinstance(data__members_item__status, str) and data__members_item__status == 'resolved'):
                                raise JsonSchemaValueException("")
                        if data__members_item_keys:
                            raise JsonSchemaValueException("")
        if "attachments" in data_keys:
            data_keys.remove("attachments")
            data__attachments = data["attachments"]
            if not isinstance(data__attachments, (list, tuple)):
                raise JsonSchemaValueException("")
            data__attachments_is_list = isinstance(data__attachments, (list, tuple))
            if data__attachments_is_list:
                data__attachments_len = len(data__attachments)
                for data__attachments_x, data__attachments_item in enumerate(data__attachments):
                    if not isinstance(data__attachments_item, (dict)):
                        raise JsonSchemaValueException("")
                    data__attachments_item_any_of_count2 = 0
                    if not data__attachments_item_any_of_count2:
                        try:
                            data__attachments_item_is_dict = isinstance(data__attachments_item, dict)
                            if data__attachments_item_is_dict:
                                data__attachments_item__missing_keys = set(['content']) - data__attachments_item.keys()
                                if data__attachments_item__missing_keys:
                                    raise JsonSchemaValueException("")
                            data__attachments_item_any_of_count2 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__attachments_item_any_of_count2:
                        try:
                            data__attachments_item_is_dict = isinstance(data__attachments_item, dict)
                            if data__attachments_item_is_dict:
                                data__attachments_item__missing_keys = set(['url']) - data__attachments_item.keys()
                                if data__attachments_item__missing_keys:
                                    raise JsonSchemaValueException("")
                            data__attachments_item_any_of_count2 += 1
                        except (JsonSchemaValueException, JsonSchemaValuesException): pass
                    if not data__attachments_item_any_of_count2:
                        raise JsonSchemaValueException("")
                    data__attachments_item_is_dict = isinstance(data__attachments_item, dict)
                    if data__attachments_item_is_dict:
                        data__attachments_item__missing_keys = set(['filename']) - data__attachments_item.keys()
                        if data__attachments_item__missing_keys:
                            raise JsonSchemaValueException("")
                        data__attachments_item_keys = set(data__attachments_item.keys())
                        if "filename" in data__attachments_item_keys:
                            data__attachments_item_keys.remove("filename")
                            data__attachments_item__filename = data__attachments_item["filename"]
                            if not isinstance(data__attachments_item__filename, (str)):
                                raise JsonSchemaValueException("")
                            if isinstance(data__attachments_item__filename, str):
                                data__attachments_item__filename_len = len(data__attachments_item__filename)
                                if data__attachments_item__filename_len < 1:
                                    raise JsonSchemaValueException("")
                        if "content_type" in data__attachments_item_keys:
                            data__attachments_item_keys.remove("content_type")
                            data__attachments_item__contenttype = data__attachments_item["content_type"]
                            if not isinstance(data__attachments_item__contenttype, (str)):
                                raise JsonSchemaValueException("")
                        else: data__attachments_item["content_type"] = 'application/octet-stream'
                        if "content" in data__attachments_item_keys:
                            data__attachments_item_keys.remove("content")
                            data__attachments_item__content = data__attachments_item["content"]
                            if not isinstance(data__attachments_item__content, (str)):
                                raise JsonSchemaValueException("")
                            if isinstance(data__attachments_item__content, str):
                                try:
                                    import base64
                                    data__attachments_item__content = base64.b64decode(data__attachments_item__content)
                                except Exception:
                                    raise JsonSchemaValueException("")
                                if data__attachments_item__content == "":
                                    raise JsonSchemaValueException("")
                        if "url" in data__attachments_item_keys:
                            data__attachments_item_keys.remove("url")
                            data__attachments_item__url = data__attachments_item["url"]
                            if not isinstance(data__attachments_item__url, (str)):
                                raise JsonSchemaValueException("")
                        if data__attachments_item_keys:
                            raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data
validate = validate_https___notifierd_dev_schemas_request_schema_json
