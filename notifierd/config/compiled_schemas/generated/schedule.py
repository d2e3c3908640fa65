"""Whether a document is valid against schemas/schedule.schema.json (generated; do not
edit: python -m notifierd.config.compiled_schemas.generate)."""
# ruff: noqa
# mypy: ignore-errors
SCHEMA_DIGEST = "2bf542f1bc35ff4da6a568cf740ef598e0c1fba414ddb940799ce9f1daec8cca"
VERSION = "2.22.3"
from decimal import Decimal
import re
class JsonSchemaValueException(ValueError): pass
class JsonSchemaValuesException(ValueError): pass


REGEX_PATTERNS = {
    '^[A-Za-z0-9][A-Za-z0-9_.-]*$': re.compile('^[A-Za-z0-9][A-Za-z0-9_.-]*\\Z'),
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|z|[+-][0-9]{2}:[0-9]{2})?$': re.compile('^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|z|[+-][0-9]{2}:[0-9]{2})?\\Z'),
    '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$': re.compile('^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+\\Z'),
    '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$': re.compile('^([01][0-9]|2[0-3]):[0-5][0-9]\\Z|^24:00\\Z')
}

NoneType = type(None)

def validate_https___notifierd_dev_schemas_schedule_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['timezone', 'layers']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "handle" in data_keys:
            data_keys.remove("handle")
            data__handle = data["handle"]
            if not isinstance(data__handle, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__handle, str):
                data__handle_len = len(data__handle)
                if data__handle_len > 100:
                    raise JsonSchemaValueException("")
                if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9_.-]*$'].search(data__handle):
                    raise JsonSchemaValueException("")
        if "timezone" in data_keys:
            data_keys.remove("timezone")
            data__timezone = data["timezone"]
            if not isinstance(data__timezone, (str)):
                raise JsonSchemaValueException("")
        if "layers" in data_keys:
            data_keys.remove("layers")
            data__layers = data["layers"]
            if not isinstance(data__layers, (list, tuple)):
                raise JsonSchemaValueException("")
            data__layers_is_list = isinstance(data__layers, (list, tuple))
            if data__layers_is_list:
                data__layers_len = len(data__layers)
                if data__layers_len < 1:
                    raise JsonSchemaValueException("")
                for data__layers_x, data__layers_item in enumerate(data__layers):
                    validate_https___notifierd_dev_schemas_schedule_schema_json___defs_layer(data__layers_item, custom_formats, (name_prefix or "data") + ".layers[{data__layers_x}]".format(**locals()))
        if "overrides" in data_keys:
            data_keys.remove("overrides")
            data__overrides = data["overrides"]
            if not isinstance(data__overrides, (list, tuple)):
                raise JsonSchemaValueException("")
            data__overrides_is_list = isinstance(data__overrides, (list, tuple))
            if data__overrides_is_list:
                data__overrides_len = len(data__overrides)
                for data__overrides_x, data__overrides_item in enumerate(data__overrides):
                    validate_https___notifierd_dev_schemas_schedule_schema_json___defs_override(data__overrides_item, custom_formats, (name_prefix or "data") + ".overrides[{data__overrides_x}]".format(**locals()))
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            if not isinstance(data__fallback, (list, tuple)):
                raise JsonSchemaValueException("")
            data__fallback_is_list = isinstance(data__fallback, (list, tuple))
            if data__fallback_is_list:
                data__fallback_len = len(data__fallback)
                for data__fallback_x, data__fallback_item in enumerate(data__fallback):
                    if not isinstance(data__fallback_item, (str)):
                        raise JsonSchemaValueException("")
                    if isinstance(data__fallback_item, str):
                        data__fallback_item_len = len(data__fallback_item)
                        if data__fallback_item_len < 1:
                            raise JsonSchemaValueException("")
        if "notify_handoff" in data_keys:
            data_keys.remove("notify_handoff")
            data__notifyhandoff = data["notify_handoff"]
            if not isinstance(data__notifyhandoff, (bool)):
                raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_schedule_schema_json___defs_override(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['person', 'from', 'until']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "person" in data_keys:
            data_keys.remove("person")
            data__person = data["person"]
            if not isinstance(data__person, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__person, str):
                data__person_len = len(data__person)
                if data__person_len < 1:
                    raise JsonSchemaValueException("")
        if "from" in data_keys:
            data_keys.remove("from")
            data__from = data["from"]
            validate_https___notifierd_dev_schemas_schedule_schema_json___defs_local_time(data__from, custom_formats, (name_prefix or "data") + ".from")
        if "until" in data_keys:
            data_keys.remove("until")
            data__until = data["until"]
            validate_https___notifierd_dev_schemas_schedule_schema_json___defs_local_time(data__until, custom_formats, (name_prefix or "data") + ".until")
        if "reason" in data_keys:
            data_keys.remove("reason")
            data__reason = data["reason"]
            if not isinstance(data__reason, (str)):
                raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_schedule_schema_json___defs_local_time(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|z|[+-][0-9]{2}:[0-9]{2})?$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_schedule_schema_json___defs_layer(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name', 'members', 'rotation', 'start']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            if not isinstance(data__name, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__name, str):
                data__name_len = len(data__name)
                if data__name_len > 100:
                    raise JsonSchemaValueException("")
                if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9_.-]*$'].search(data__name):
                    raise JsonSchemaValueException("")
        if "members" in data_keys:
            data_keys.remove("members")
            data__members = data["members"]
            if not isinstance(data__members, (list, tuple)):
                raise JsonSchemaValueException("")
            data__members_is_list = isinstance(data__members, (list, tuple))
            if data__members_is_list:
                data__members_len = len(data__members)
                if data__members_len < 1:
                    raise JsonSchemaValueException("")
                for data__members_x, data__members_item in enumerate(data__members):
                    if not isinstance(data__members_item, (str)):
                        raise JsonSchemaValueException("")
                    if isinstance(data__members_item, str):
                        data__members_item_len = len(data__members_item)
                        if data__members_item_len < 1:
                            raise JsonSchemaValueException("")
        if "rotation" in data_keys:
            data_keys.remove("rotation")
            data__rotation = data["rotation"]
            if not isinstance(data__rotation, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__rotation, str):
                if not REGEX_PATTERNS['^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$'].search(data__rotation):
                    raise JsonSchemaValueException("")
        if "start" in data_keys:
            data_keys.remove("start")
            data__start = data["start"]
            validate_https___notifierd_dev_schemas_schedule_schema_json___defs_local_time(data__start, custom_formats, (name_prefix or "data") + ".start")
        if "restrict" in data_keys:
            data_keys.remove("restrict")
            data__restrict = data["restrict"]
            if not isinstance(data__restrict, (list, tuple)):
                raise JsonSchemaValueException("")
            data__restrict_is_list = isinstance(data__restrict, (list, tuple))
            if data__restrict_is_list:
                data__restrict_len = len(data__restrict)
                if data__restrict_len < 1:
                    raise JsonSchemaValueException("")
                for data__restrict_x, data__restrict_item in enumerate(data__restrict):
                    validate_https___notifierd_dev_schemas_schedule_schema_json___defs_window(data__restrict_item, custom_formats, (name_prefix or "data") + ".restrict[{data__restrict_x}]".format(**locals()))
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_schedule_schema_json___defs_window(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['from', 'to']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "days" in data_keys:
            data_keys.remove("days")
            data__days = data["days"]
            if not isinstance(data__days, (list, tuple)):
                raise JsonSchemaValueException("")
            data__days_is_list = isinstance(data__days, (list, tuple))
            if data__days_is_list:
                data__days_len = len(data__days)
                if data__days_len < 1:
                    raise JsonSchemaValueException("")
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                if data__days_len > len(set(fn(data__days_x) for data__days_x in data__days)):
                    raise JsonSchemaValueException("")
                for data__days_x, data__days_item in enumerate(data__days):
                    if not (isinstance(data__days_item, str) and data__days_item == 'mon' or isinstance(data__days_item, str) and data__days_item == 'tue' or isinstance(data__days_item, str) and data__days_item == 'wed' or isinstance(data__days_item, str) and data__days_item == 'thu' or isinstance(data__days_item, str) and data__days_item == 'fri' or isinstance(data__days_item, str) and data__days_item == 'sat' or isinstance(data__days_item, str) and data__days_item == 'sun'):
                        raise JsonSchemaValueException("")
        if "from" in data_keys:
            data_keys.remove("from")
            data__from = data["from"]
            validate_https___notifierd_dev_schemas_schedule_schema_json___defs_clock(data__from, custom_formats, (name_prefix or "data") + ".from")
        if "to" in data_keys:
            data_keys.remove("to")
            data__to = data["to"]
            validate_https___notifierd_dev_schemas_schedule_schema_json___defs_clock(data__to, custom_formats, (name_prefix or "data") + ".to")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_schedule_schema_json___defs_clock(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$'].search(data):
            raise JsonSchemaValueException("")
    return data
validate = validate_https___notifierd_dev_schemas_schedule_schema_json
