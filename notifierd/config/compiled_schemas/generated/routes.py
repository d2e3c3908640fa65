"""Whether a document is valid against schemas/routes.schema.json (generated; do not
edit: python -m notifierd.config.compiled_schemas.generate)."""
# ruff: noqa
# mypy: ignore-errors
SCHEMA_DIGEST = "7ddbaa1c4c88c2f48c95856fa48266de8a2452e386f6b5b201ba252ce97e7c51"
VERSION = "2.22.3"
from decimal import Decimal
import re
class JsonSchemaValueException(ValueError): pass
class JsonSchemaValuesException(ValueError): pass


REGEX_PATTERNS = {
    '^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$': re.compile('^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}\\Z'),
    '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$': re.compile('^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+\\Z'),
    '^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?$': re.compile('^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?\\Z'),
    '^[A-Za-z0-9][A-Za-z0-9_.-]*$': re.compile('^[A-Za-z0-9][A-Za-z0-9_.-]*\\Z'),
    '^(\\+[1-9][0-9]{6,14}|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})$': re.compile('^(\\+[1-9][0-9]{6,14}|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})\\Z'),
    '^(https?://\\S+|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}\\S*)$': re.compile('^(https?://\\S+|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}\\S*)\\Z'),
    '^([^<>]*<)?[^@\\s<>]+@[^@\\s<>]+(>)?$|^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$': re.compile('^([^<>]*<)?[^@\\s<>]+@[^@\\s<>]+(>)?\\Z|^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}\\Z'),
    '^:[a-z0-9_+-]+:$': re.compile('^:[a-z0-9_+-]+:\\Z')
}

NoneType = type(None)

def validate_https___notifierd_dev_schemas_routes_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['channels', 'routes']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "settings" in data_keys:
            data_keys.remove("settings")
            data__settings = data["settings"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_settings(data__settings, custom_formats, (name_prefix or "data") + ".settings")
        if "channels" in data_keys:
            data_keys.remove("channels")
            data__channels = data["channels"]
            if not isinstance(data__channels, (dict)):
                raise JsonSchemaValueException("")
            data__channels_is_dict = isinstance(data__channels, dict)
            if data__channels_is_dict:
                data__channels_len = len(data__channels)
                if data__channels_len < 1:
                    raise JsonSchemaValueException("")
                data__channels_keys = set(data__channels.keys())
                for data__channels_key in data__channels_keys:
                    if data__channels_key not in []:
                        data__channels_value = data__channels.get(data__channels_key)
                        validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel(data__channels_value, custom_formats, (name_prefix or "data") + ".channels.{data__channels_key}".format(**locals()))
                if data__channels_len != 0:
                    data__channels_property_names = True
                    for data__channels_key in data__channels:
                        try:
                            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__channels_key, custom_formats, (name_prefix or "data") + ".channels")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__channels_property_names = False
                    if not data__channels_property_names:
                        raise JsonSchemaValueException("")
        if "rate_limits" in data_keys:
            data_keys.remove("rate_limits")
            data__ratelimits = data["rate_limits"]
            if not isinstance(data__ratelimits, (list, tuple)):
                raise JsonSchemaValueException("")
            data__ratelimits_is_list = isinstance(data__ratelimits, (list, tuple))
            if data__ratelimits_is_list:
                data__ratelimits_len = len(data__ratelimits)
                for data__ratelimits_x, data__ratelimits_item in enumerate(data__ratelimits):
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_rate_limit(data__ratelimits_item, custom_formats, (name_prefix or "data") + ".rate_limits[{data__ratelimits_x}]".format(**locals()))
        if "routes" in data_keys:
            data_keys.remove("routes")
            data__routes = data["routes"]
            if not isinstance(data__routes, (list, tuple)):
                raise JsonSchemaValueException("")
            data__routes_is_list = isinstance(data__routes, (list, tuple))
            if data__routes_is_list:
                data__routes_len = len(data__routes)
                if data__routes_len < 1:
                    raise JsonSchemaValueException("")
                for data__routes_x, data__routes_item in enumerate(data__routes):
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_route(data__routes_item, custom_formats, (name_prefix or "data") + ".routes[{data__routes_x}]".format(**locals()))
        if "suppressions" in data_keys:
            data_keys.remove("suppressions")
            data__suppressions = data["suppressions"]
            if not isinstance(data__suppressions, (list, tuple)):
                raise JsonSchemaValueException("")
            data__suppressions_is_list = isinstance(data__suppressions, (list, tuple))
            if data__suppressions_is_list:
                data__suppressions_len = len(data__suppressions)
                for data__suppressions_x, data__suppressions_item in enumerate(data__suppressions):
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_suppression(data__suppressions_item, custom_formats, (name_prefix or "data") + ".suppressions[{data__suppressions_x}]".format(**locals()))
        if "people" in data_keys:
            data_keys.remove("people")
            data__people = data["people"]
            if not isinstance(data__people, (dict)):
                raise JsonSchemaValueException("")
            data__people_is_dict = isinstance(data__people, dict)
            if data__people_is_dict:
                data__people_keys = set(data__people.keys())
                for data__people_key in data__people_keys:
                    if data__people_key not in []:
                        data__people_value = data__people.get(data__people_key)
                        validate_https___notifierd_dev_schemas_routes_schema_json___defs_person(data__people_value, custom_formats, (name_prefix or "data") + ".people.{data__people_key}".format(**locals()))
                data__people_len = len(data__people)
                if data__people_len != 0:
                    data__people_property_names = True
                    for data__people_key in data__people:
                        try:
                            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__people_key, custom_formats, (name_prefix or "data") + ".people")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__people_property_names = False
                    if not data__people_property_names:
                        raise JsonSchemaValueException("")
        if "producers" in data_keys:
            data_keys.remove("producers")
            data__producers = data["producers"]
            if not isinstance(data__producers, (dict)):
                raise JsonSchemaValueException("")
            data__producers_is_dict = isinstance(data__producers, dict)
            if data__producers_is_dict:
                data__producers_keys = set(data__producers.keys())
                for data__producers_key in data__producers_keys:
                    if data__producers_key not in []:
                        data__producers_value = data__producers.get(data__producers_key)
                        validate_https___notifierd_dev_schemas_routes_schema_json___defs_producer(data__producers_value, custom_formats, (name_prefix or "data") + ".producers.{data__producers_key}".format(**locals()))
                data__producers_len = len(data__producers)
                if data__producers_len != 0:
                    data__producers_property_names = True
                    for data__producers_key in data__producers:
                        try:
                            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__producers_key, custom_formats, (name_prefix or "data") + ".producers")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__producers_property_names = False
                    if not data__producers_property_names:
                        raise JsonSchemaValueException("")
        if "heartbeats" in data_keys:
            data_keys.remove("heartbeats")
            data__heartbeats = data["heartbeats"]
            if not isinstance(data__heartbeats, (list, tuple)):
                raise JsonSchemaValueException("")
            data__heartbeats_is_list = isinstance(data__heartbeats, (list, tuple))
            if data__heartbeats_is_list:
                data__heartbeats_len = len(data__heartbeats)
                for data__heartbeats_x, data__heartbeats_item in enumerate(data__heartbeats):
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_heartbeat(data__heartbeats_item, custom_formats, (name_prefix or "data") + ".heartbeats[{data__heartbeats_x}]".format(**locals()))
        if "calendar_feeds" in data_keys:
            data_keys.remove("calendar_feeds")
            data__calendarfeeds = data["calendar_feeds"]
            if not isinstance(data__calendarfeeds, (dict)):
                raise JsonSchemaValueException("")
            data__calendarfeeds_is_dict = isinstance(data__calendarfeeds, dict)
            if data__calendarfeeds_is_dict:
                data__calendarfeeds_keys = set(data__calendarfeeds.keys())
                for data__calendarfeeds_key in data__calendarfeeds_keys:
                    if data__calendarfeeds_key not in []:
                        data__calendarfeeds_value = data__calendarfeeds.get(data__calendarfeeds_key)
                        validate_https___notifierd_dev_schemas_routes_schema_json___defs_calendar_feed(data__calendarfeeds_value, custom_formats, (name_prefix or "data") + ".calendar_feeds.{data__calendarfeeds_key}".format(**locals()))
                data__calendarfeeds_len = len(data__calendarfeeds)
                if data__calendarfeeds_len != 0:
                    data__calendarfeeds_property_names = True
                    for data__calendarfeeds_key in data__calendarfeeds:
                        try:
                            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__calendarfeeds_key, custom_formats, (name_prefix or "data") + ".calendar_feeds")
                        except (JsonSchemaValueException, JsonSchemaValuesException):
                            data__calendarfeeds_property_names = False
                    if not data__calendarfeeds_property_names:
                        raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_calendar_feed(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_any_of_count1 = 0
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['schedules']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['people']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_any_of_count1 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if not data_any_of_count1:
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['token']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "token" in data_keys:
            data_keys.remove("token")
            data__token = data["token"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_token_ref(data__token, custom_formats, (name_prefix or "data") + ".token")
        if "schedules" in data_keys:
            data_keys.remove("schedules")
            data__schedules = data["schedules"]
            if not isinstance(data__schedules, (list, tuple)):
                raise JsonSchemaValueException("")
            data__schedules_is_list = isinstance(data__schedules, (list, tuple))
            if data__schedules_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__schedules_len = len(data__schedules)
                if data__schedules_len > len(set(fn(data__schedules_x) for data__schedules_x in data__schedules)):
                    raise JsonSchemaValueException("")
                for data__schedules_x, data__schedules_item in enumerate(data__schedules):
                    if not isinstance(data__schedules_item, (str)):
                        raise JsonSchemaValueException("")
        if "people" in data_keys:
            data_keys.remove("people")
            data__people = data["people"]
            if not isinstance(data__people, (list, tuple)):
                raise JsonSchemaValueException("")
            data__people_is_list = isinstance(data__people, (list, tuple))
            if data__people_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__people_len = len(data__people)
                if data__people_len > len(set(fn(data__people_x) for data__people_x in data__people)):
                    raise JsonSchemaValueException("")
                for data__people_x, data__people_item in enumerate(data__people):
                    if not isinstance(data__people_item, (str)):
                        raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_token_ref(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_heartbeat(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name', 'interval', 'producer']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__name, custom_formats, (name_prefix or "data") + ".name")
        if "interval" in data_keys:
            data_keys.remove("interval")
            data__interval = data["interval"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__interval, custom_formats, (name_prefix or "data") + ".interval")
        if "grace" in data_keys:
            data_keys.remove("grace")
            data__grace = data["grace"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__grace, custom_formats, (name_prefix or "data") + ".grace")
        if "producer" in data_keys:
            data_keys.remove("producer")
            data__producer = data["producer"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__producer, custom_formats, (name_prefix or "data") + ".producer")
        if "title" in data_keys:
            data_keys.remove("title")
            data__title = data["title"]
            if not isinstance(data__title, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__title, str):
                data__title_len = len(data__title)
                if data__title_len < 1:
                    raise JsonSchemaValueException("")
                if data__title_len > 1000:
                    raise JsonSchemaValueException("")
        if "severity" in data_keys:
            data_keys.remove("severity")
            data__severity = data["severity"]
            if not (isinstance(data__severity, str) and data__severity == 'info' or isinstance(data__severity, str) and data__severity == 'warning' or isinstance(data__severity, str) and data__severity == 'error' or isinstance(data__severity, str) and data__severity == 'critical'):
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
                        if not isinstance(data__labels_value, (str)):
                            raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "from_alert" in data_keys:
            data_keys.remove("from_alert")
            data__fromalert = data["from_alert"]
            if not isinstance(data__fromalert, (dict)):
                raise JsonSchemaValueException("")
            data__fromalert_is_dict = isinstance(data__fromalert, dict)
            if data__fromalert_is_dict:
                data__fromalert__missing_keys = set(['matchers']) - data__fromalert.keys()
                if data__fromalert__missing_keys:
                    raise JsonSchemaValueException("")
                data__fromalert_keys = set(data__fromalert.keys())
                if "matchers" in data__fromalert_keys:
                    data__fromalert_keys.remove("matchers")
                    data__fromalert__matchers = data__fromalert["matchers"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_matchers(data__fromalert__matchers, custom_formats, (name_prefix or "data") + ".from_alert.matchers")
                    data__fromalert__matchers_is_list = isinstance(data__fromalert__matchers, (list, tuple))
                    if data__fromalert__matchers_is_list:
                        data__fromalert__matchers_len = len(data__fromalert__matchers)
                        if data__fromalert__matchers_len < 1:
                            raise JsonSchemaValueException("")
                if data__fromalert_keys:
                    raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_matchers(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException("")
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            if not isinstance(data_item, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data_item, str):
                data_item_len = len(data_item)
                if data_item_len < 1:
                    raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_producer(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "queue" in data_keys:
            data_keys.remove("queue")
            data__queue = data["queue"]
            if not isinstance(data__queue, (bool)):
                raise JsonSchemaValueException("")
        if "token" in data_keys:
            data_keys.remove("token")
            data__token = data["token"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_token_ref(data__token, custom_formats, (name_prefix or "data") + ".token")
        if "roles" in data_keys:
            data_keys.remove("roles")
            data__roles = data["roles"]
            if not isinstance(data__roles, (list, tuple)):
                raise JsonSchemaValueException("")
            data__roles_is_list = isinstance(data__roles, (list, tuple))
            if data__roles_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__roles_len = len(data__roles)
                if data__roles_len > len(set(fn(data__roles_x) for data__roles_x in data__roles)):
                    raise JsonSchemaValueException("")
                for data__roles_x, data__roles_item in enumerate(data__roles):
                    if not (isinstance(data__roles_item, str) and data__roles_item == 'produce' or isinstance(data__roles_item, str) and data__roles_item == 'view'):
                        raise JsonSchemaValueException("")
        if "may_act_on" in data_keys:
            data_keys.remove("may_act_on")
            data__mayacton = data["may_act_on"]
            if not isinstance(data__mayacton, (dict)):
                raise JsonSchemaValueException("")
            data__mayacton_is_dict = isinstance(data__mayacton, dict)
            if data__mayacton_is_dict:
                data__mayacton_keys = set(data__mayacton.keys())
                if "routes" in data__mayacton_keys:
                    data__mayacton_keys.remove("routes")
                    data__mayacton__routes = data__mayacton["routes"]
                    if not isinstance(data__mayacton__routes, (list, tuple)):
                        raise JsonSchemaValueException("")
                    data__mayacton__routes_is_list = isinstance(data__mayacton__routes, (list, tuple))
                    if data__mayacton__routes_is_list:
                        data__mayacton__routes_len = len(data__mayacton__routes)
                        for data__mayacton__routes_x, data__mayacton__routes_item in enumerate(data__mayacton__routes):
                            if not isinstance(data__mayacton__routes_item, (str)):
                                raise JsonSchemaValueException("")
                if "producers" in data__mayacton_keys:
                    data__mayacton_keys.remove("producers")
                    data__mayacton__producers = data__mayacton["producers"]
                    if not isinstance(data__mayacton__producers, (list, tuple)):
                        raise JsonSchemaValueException("")
                    data__mayacton__producers_is_list = isinstance(data__mayacton__producers, (list, tuple))
                    if data__mayacton__producers_is_list:
                        data__mayacton__producers_len = len(data__mayacton__producers)
                        for data__mayacton__producers_x, data__mayacton__producers_item in enumerate(data__mayacton__producers):
                            if not isinstance(data__mayacton__producers_item, (str)):
                                raise JsonSchemaValueException("")
                if data__mayacton_keys:
                    raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_person(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['contacts']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "reach" in data_keys:
            data_keys.remove("reach")
            data__reach = data["reach"]
            if not (isinstance(data__reach, str) and data__reach == 'all' or isinstance(data__reach, str) and data__reach == 'first'):
                raise JsonSchemaValueException("")
        if "contacts" in data_keys:
            data_keys.remove("contacts")
            data__contacts = data["contacts"]
            if not isinstance(data__contacts, (list, tuple)):
                raise JsonSchemaValueException("")
            data__contacts_is_list = isinstance(data__contacts, (list, tuple))
            if data__contacts_is_list:
                data__contacts_len = len(data__contacts)
                if data__contacts_len < 1:
                    raise JsonSchemaValueException("")
                for data__contacts_x, data__contacts_item in enumerate(data__contacts):
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_contact(data__contacts_item, custom_formats, (name_prefix or "data") + ".contacts[{data__contacts_x}]".format(**locals()))
        if "roles" in data_keys:
            data_keys.remove("roles")
            data__roles = data["roles"]
            if not isinstance(data__roles, (list, tuple)):
                raise JsonSchemaValueException("")
            data__roles_is_list = isinstance(data__roles, (list, tuple))
            if data__roles_is_list:
                def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
                data__roles_len = len(data__roles)
                if data__roles_len > len(set(fn(data__roles_x) for data__roles_x in data__roles)):
                    raise JsonSchemaValueException("")
                for data__roles_x, data__roles_item in enumerate(data__roles):
                    if not (isinstance(data__roles_item, str) and data__roles_item == 'view' or isinstance(data__roles_item, str) and data__roles_item == 'operate' or isinstance(data__roles_item, str) and data__roles_item == 'admin'):
                        raise JsonSchemaValueException("")
        if "token" in data_keys:
            data_keys.remove("token")
            data__token = data["token"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_token_ref(data__token, custom_formats, (name_prefix or "data") + ".token")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_contact(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_one_of_count2 = 0
    if data_one_of_count2 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['slack']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['email']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 < 2:
        try:
            data_is_dict = isinstance(data, dict)
            if data_is_dict:
                data__missing_keys = set(['sms']) - data.keys()
                if data__missing_keys:
                    raise JsonSchemaValueException("")
            data_one_of_count2 += 1
        except (JsonSchemaValueException, JsonSchemaValuesException): pass
    if data_one_of_count2 != 1:
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "slack" in data_keys:
            data_keys.remove("slack")
            data__slack = data["slack"]
            if not isinstance(data__slack, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__slack, str):
                data__slack_len = len(data__slack)
                if data__slack_len < 1:
                    raise JsonSchemaValueException("")
        if "email" in data_keys:
            data_keys.remove("email")
            data__email = data["email"]
            if not isinstance(data__email, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__email, str):
                data__email_len = len(data__email)
                if data__email_len < 1:
                    raise JsonSchemaValueException("")
        if "sms" in data_keys:
            data_keys.remove("sms")
            data__sms = data["sms"]
            if not isinstance(data__sms, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__sms, str):
                data__sms_len = len(data__sms)
                if data__sms_len < 1:
                    raise JsonSchemaValueException("")
        if "min_severity" in data_keys:
            data_keys.remove("min_severity")
            data__minseverity = data["min_severity"]
            if not (isinstance(data__minseverity, str) and data__minseverity == 'info' or isinstance(data__minseverity, str) and data__minseverity == 'warning' or isinstance(data__minseverity, str) and data__minseverity == 'error' or isinstance(data__minseverity, str) and data__minseverity == 'critical'):
                raise JsonSchemaValueException("")
        if "min_priority" in data_keys:
            data_keys.remove("min_priority")
            data__minpriority = data["min_priority"]
            if not (isinstance(data__minpriority, str) and data__minpriority == 'low' or isinstance(data__minpriority, str) and data__minpriority == 'medium' or isinstance(data__minpriority, str) and data__minpriority == 'high' or isinstance(data__minpriority, str) and data__minpriority == 'critical'):
                raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_suppression(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__name, custom_formats, (name_prefix or "data") + ".name")
        if "reason" in data_keys:
            data_keys.remove("reason")
            data__reason = data["reason"]
            if not isinstance(data__reason, (str)):
                raise JsonSchemaValueException("")
        if "matchers" in data_keys:
            data_keys.remove("matchers")
            data__matchers = data["matchers"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_matchers(data__matchers, custom_formats, (name_prefix or "data") + ".matchers")
        if "start" in data_keys:
            data_keys.remove("start")
            data__start = data["start"]
            if not isinstance(data__start, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__start, str):
                if not custom_formats["date-time"](data__start):
                    raise JsonSchemaValueException("")
        if "end" in data_keys:
            data_keys.remove("end")
            data__end = data["end"]
            if not isinstance(data__end, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__end, str):
                if not custom_formats["date-time"](data__end):
                    raise JsonSchemaValueException("")
        if "cron" in data_keys:
            data_keys.remove("cron")
            data__cron = data["cron"]
            if not isinstance(data__cron, (str)):
                raise JsonSchemaValueException("")
        if "duration" in data_keys:
            data_keys.remove("duration")
            data__duration = data["duration"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__duration, custom_formats, (name_prefix or "data") + ".duration")
        if "timezone" in data_keys:
            data_keys.remove("timezone")
            data__timezone = data["timezone"]
            if not isinstance(data__timezone, (str)):
                raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_route(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['name', 'channels']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "name" in data_keys:
            data_keys.remove("name")
            data__name = data["name"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data__name, custom_formats, (name_prefix or "data") + ".name")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "matchers" in data_keys:
            data_keys.remove("matchers")
            data__matchers = data["matchers"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_matchers(data__matchers, custom_formats, (name_prefix or "data") + ".matchers")
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
        if "recipients" in data_keys:
            data_keys.remove("recipients")
            data__recipients = data["recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipients(data__recipients, custom_formats, (name_prefix or "data") + ".recipients")
        if "escalation" in data_keys:
            data_keys.remove("escalation")
            data__escalation = data["escalation"]
            if not isinstance(data__escalation, (str)):
                raise JsonSchemaValueException("")
        if "template" in data_keys:
            data_keys.remove("template")
            data__template = data["template"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_template_ref(data__template, custom_formats, (name_prefix or "data") + ".template")
        if "continue" in data_keys:
            data_keys.remove("continue")
            data__continue = data["continue"]
            if not isinstance(data__continue, (bool)):
                raise JsonSchemaValueException("")
        if "max_new_alerts_per_minute" in data_keys:
            data_keys.remove("max_new_alerts_per_minute")
            data__maxnewalertsperminute = data["max_new_alerts_per_minute"]
            if not isinstance(data__maxnewalertsperminute, (int)) and not (isinstance(data__maxnewalertsperminute, float) and data__maxnewalertsperminute.is_integer()) or isinstance(data__maxnewalertsperminute, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxnewalertsperminute, (int, float, Decimal)) and not isinstance(data__maxnewalertsperminute, bool):
                if data__maxnewalertsperminute < 1:
                    raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_template_ref(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^[a-z0-9][a-z0-9_-]*(@v?[0-9]+(\\.[0-9]+)*([-.][A-Za-z0-9]+)?)?$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipients(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException("")
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipient(data_item, custom_formats, (name_prefix or "data") + "[{data_x}]".format(**locals()))
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipient(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        data_len = len(data)
        if data_len < 1:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_rate_limit(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['limit', 'window']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "channel" in data_keys:
            data_keys.remove("channel")
            data__channel = data["channel"]
            if not isinstance(data__channel, (str)):
                raise JsonSchemaValueException("")
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'slack' or isinstance(data__type, str) and data__type == 'email' or isinstance(data__type, str) and data__type == 'teams' or isinstance(data__type, str) and data__type == 'pagerduty' or isinstance(data__type, str) and data__type == 'webhook' or isinstance(data__type, str) and data__type == 'sms'):
                raise JsonSchemaValueException("")
        if "limit" in data_keys:
            data_keys.remove("limit")
            data__limit = data["limit"]
            if not isinstance(data__limit, (int)) and not (isinstance(data__limit, float) and data__limit.is_integer()) or isinstance(data__limit, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__limit, (int, float, Decimal)) and not isinstance(data__limit, bool):
                if data__limit < 1:
                    raise JsonSchemaValueException("")
        if "window" in data_keys:
            data_keys.remove("window")
            data__window = data["window"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__window, custom_formats, (name_prefix or "data") + ".window")
        if "algorithm" in data_keys:
            data_keys.remove("algorithm")
            data__algorithm = data["algorithm"]
            if not (isinstance(data__algorithm, str) and data__algorithm == 'sliding_window' or isinstance(data__algorithm, str) and data__algorithm == 'token_bucket'):
                raise JsonSchemaValueException("")
        if "burst" in data_keys:
            data_keys.remove("burst")
            data__burst = data["burst"]
            if not isinstance(data__burst, (int)) and not (isinstance(data__burst, float) and data__burst.is_integer()) or isinstance(data__burst, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__burst, (int, float, Decimal)) and not isinstance(data__burst, bool):
                if data__burst < 1:
                    raise JsonSchemaValueException("")
        if "overflow" in data_keys:
            data_keys.remove("overflow")
            data__overflow = data["overflow"]
            if not (isinstance(data__overflow, str) and data__overflow == 'delay' or isinstance(data__overflow, str) and data__overflow == 'digest'):
                raise JsonSchemaValueException("")
        if "digest_after" in data_keys:
            data_keys.remove("digest_after")
            data__digestafter = data["digest_after"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__digestafter, custom_formats, (name_prefix or "data") + ".digest_after")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_name(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        data_len = len(data)
        if data_len > 100:
            raise JsonSchemaValueException("")
        if not REGEX_PATTERNS['^[A-Za-z0-9][A-Za-z0-9_.-]*$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'slack'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_slack(data, custom_formats, (name_prefix or "data") + "")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'email'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_email(data, custom_formats, (name_prefix or "data") + "")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'teams'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_teams(data, custom_formats, (name_prefix or "data") + "")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'pagerduty'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_pagerduty(data, custom_formats, (name_prefix or "data") + "")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'webhook'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_webhook(data, custom_formats, (name_prefix or "data") + "")
    try:
        data_is_dict = isinstance(data, dict)
        if data_is_dict:
            data__missing_keys = set(['type']) - data.keys()
            if data__missing_keys:
                raise JsonSchemaValueException("")
            data_keys = set(data.keys())
            if "type" in data_keys:
                data_keys.remove("type")
                data__type = data["type"]
                if not (isinstance(data__type, str) and data__type == 'sms'):
                    raise JsonSchemaValueException("")
    except (JsonSchemaValueException, JsonSchemaValuesException):
        pass
    else:
        validate_https___notifierd_dev_schemas_routes_schema_json___defs_sms(data, custom_formats, (name_prefix or "data") + "")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'slack' or isinstance(data__type, str) and data__type == 'email' or isinstance(data__type, str) and data__type == 'teams' or isinstance(data__type, str) and data__type == 'pagerduty' or isinstance(data__type, str) and data__type == 'webhook' or isinstance(data__type, str) and data__type == 'sms'):
                raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_sms(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'account_sid', 'auth_token']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'sms'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "account_sid" in data_keys:
            data_keys.remove("account_sid")
            data__accountsid = data["account_sid"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__accountsid, custom_formats, (name_prefix or "data") + ".account_sid")
        if "auth_token" in data_keys:
            data_keys.remove("auth_token")
            data__authtoken = data["auth_token"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__authtoken, custom_formats, (name_prefix or "data") + ".auth_token")
        if "from" in data_keys:
            data_keys.remove("from")
            data__from = data["from"]
            if not isinstance(data__from, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__from, str):
                if not REGEX_PATTERNS['^(\\+[1-9][0-9]{6,14}|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\})$'].search(data__from):
                    raise JsonSchemaValueException("")
        if "messaging_service_sid" in data_keys:
            data_keys.remove("messaging_service_sid")
            data__messagingservicesid = data["messaging_service_sid"]
            if not isinstance(data__messagingservicesid, (str)):
                raise JsonSchemaValueException("")
        if "default_recipients" in data_keys:
            data_keys.remove("default_recipients")
            data__defaultrecipients = data["default_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipients(data__defaultrecipients, custom_formats, (name_prefix or "data") + ".default_recipients")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "api_url" in data_keys:
            data_keys.remove("api_url")
            data__apiurl = data["api_url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data__apiurl, custom_formats, (name_prefix or "data") + ".api_url")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    if isinstance(data, str):
        if not REGEX_PATTERNS['^(https?://\\S+|\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}\\S*)$'].search(data):
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException("")
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            if not isinstance(data_item, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data_item, str):
                data_item_len = len(data_item)
                if data_item_len < 1:
                    raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (str)):
        raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (bool)):
        raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException("")
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        def fn(var): return frozenset(dict((k, fn(v)) for k, v in var.items()).items()) if hasattr(var, "items") else tuple(fn(v) for v in var) if isinstance(var, (dict, list)) else (bool, var) if isinstance(var, bool) else var
        data_len = len(data)
        if data_len > len(set(fn(data_x) for data_x in data)):
            raise JsonSchemaValueException("")
        for data_x, data_item in enumerate(data):
            if not isinstance(data_item, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data_item, str):
                data_item_len = len(data_item)
                if data_item_len < 1:
                    raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_webhook(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'url']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'webhook'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "url" in data_keys:
            data_keys.remove("url")
            data__url = data["url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data__url, custom_formats, (name_prefix or "data") + ".url")
        if "secret" in data_keys:
            data_keys.remove("secret")
            data__secret = data["secret"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__secret, custom_formats, (name_prefix or "data") + ".secret")
        if "headers" in data_keys:
            data_keys.remove("headers")
            data__headers = data["headers"]
            if not isinstance(data__headers, (dict)):
                raise JsonSchemaValueException("")
            data__headers_is_dict = isinstance(data__headers, dict)
            if data__headers_is_dict:
                data__headers_keys = set(data__headers.keys())
                for data__headers_key in data__headers_keys:
                    if data__headers_key not in []:
                        data__headers_value = data__headers.get(data__headers_key)
                        if not isinstance(data__headers_value, (str)):
                            raise JsonSchemaValueException("")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_pagerduty(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'routing_key']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'pagerduty'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "routing_key" in data_keys:
            data_keys.remove("routing_key")
            data__routingkey = data["routing_key"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__routingkey, custom_formats, (name_prefix or "data") + ".routing_key")
        if "api_url" in data_keys:
            data_keys.remove("api_url")
            data__apiurl = data["api_url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data__apiurl, custom_formats, (name_prefix or "data") + ".api_url")
        if "source" in data_keys:
            data_keys.remove("source")
            data__source = data["source"]
            if not isinstance(data__source, (str)):
                raise JsonSchemaValueException("")
        if "component" in data_keys:
            data_keys.remove("component")
            data__component = data["component"]
            if not isinstance(data__component, (str)):
                raise JsonSchemaValueException("")
        if "group" in data_keys:
            data_keys.remove("group")
            data__group = data["group"]
            if not isinstance(data__group, (str)):
                raise JsonSchemaValueException("")
        if "class" in data_keys:
            data_keys.remove("class")
            data__class = data["class"]
            if not isinstance(data__class, (str)):
                raise JsonSchemaValueException("")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_teams(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'webhook_url']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'teams'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "webhook_url" in data_keys:
            data_keys.remove("webhook_url")
            data__webhookurl = data["webhook_url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__webhookurl, custom_formats, (name_prefix or "data") + ".webhook_url")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_email(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'from']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'email'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "transport" in data_keys:
            data_keys.remove("transport")
            data__transport = data["transport"]
            if not (isinstance(data__transport, str) and data__transport == 'smtp' or isinstance(data__transport, str) and data__transport == 'sendgrid'):
                raise JsonSchemaValueException("")
        if "host" in data_keys:
            data_keys.remove("host")
            data__host = data["host"]
            if not isinstance(data__host, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__host, str):
                data__host_len = len(data__host)
                if data__host_len < 1:
                    raise JsonSchemaValueException("")
        if "port" in data_keys:
            data_keys.remove("port")
            data__port = data["port"]
            if not isinstance(data__port, (int)) and not (isinstance(data__port, float) and data__port.is_integer()) or isinstance(data__port, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__port, (int, float, Decimal)) and not isinstance(data__port, bool):
                if data__port < 1:
                    raise JsonSchemaValueException("")
                if data__port > 65535:
                    raise JsonSchemaValueException("")
        if "username" in data_keys:
            data_keys.remove("username")
            data__username = data["username"]
            if not isinstance(data__username, (str)):
                raise JsonSchemaValueException("")
        if "password" in data_keys:
            data_keys.remove("password")
            data__password = data["password"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__password, custom_formats, (name_prefix or "data") + ".password")
        if "starttls" in data_keys:
            data_keys.remove("starttls")
            data__starttls = data["starttls"]
            if not isinstance(data__starttls, (bool)):
                raise JsonSchemaValueException("")
        if "use_tls" in data_keys:
            data_keys.remove("use_tls")
            data__usetls = data["use_tls"]
            if not isinstance(data__usetls, (bool)):
                raise JsonSchemaValueException("")
        if "api_key" in data_keys:
            data_keys.remove("api_key")
            data__apikey = data["api_key"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__apikey, custom_formats, (name_prefix or "data") + ".api_key")
        if "api_url" in data_keys:
            data_keys.remove("api_url")
            data__apiurl = data["api_url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data__apiurl, custom_formats, (name_prefix or "data") + ".api_url")
        if "from" in data_keys:
            data_keys.remove("from")
            data__from = data["from"]
            if not isinstance(data__from, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__from, str):
                if not REGEX_PATTERNS['^([^<>]*<)?[^@\\s<>]+@[^@\\s<>]+(>)?$|^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$'].search(data__from):
                    raise JsonSchemaValueException("")
        if "reply_to" in data_keys:
            data_keys.remove("reply_to")
            data__replyto = data["reply_to"]
            if not isinstance(data__replyto, (str)):
                raise JsonSchemaValueException("")
        if "cc" in data_keys:
            data_keys.remove("cc")
            data__cc = data["cc"]
            if not isinstance(data__cc, (list, tuple)):
                raise JsonSchemaValueException("")
            data__cc_is_list = isinstance(data__cc, (list, tuple))
            if data__cc_is_list:
                data__cc_len = len(data__cc)
                for data__cc_x, data__cc_item in enumerate(data__cc):
                    if not isinstance(data__cc_item, (str)):
                        raise JsonSchemaValueException("")
        if "bcc" in data_keys:
            data_keys.remove("bcc")
            data__bcc = data["bcc"]
            if not isinstance(data__bcc, (list, tuple)):
                raise JsonSchemaValueException("")
            data__bcc_is_list = isinstance(data__bcc, (list, tuple))
            if data__bcc_is_list:
                data__bcc_len = len(data__bcc)
                for data__bcc_x, data__bcc_item in enumerate(data__bcc):
                    if not isinstance(data__bcc_item, (str)):
                        raise JsonSchemaValueException("")
        if "default_recipients" in data_keys:
            data_keys.remove("default_recipients")
            data__defaultrecipients = data["default_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipients(data__defaultrecipients, custom_formats, (name_prefix or "data") + ".default_recipients")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_slack(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'token']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "type" in data_keys:
            data_keys.remove("type")
            data__type = data["type"]
            if not (isinstance(data__type, str) and data__type == 'slack'):
                raise JsonSchemaValueException("")
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "fallback" in data_keys:
            data_keys.remove("fallback")
            data__fallback = data["fallback"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_fallback(data__fallback, custom_formats, (name_prefix or "data") + ".fallback")
        if "default" in data_keys:
            data_keys.remove("default")
            data__default = data["default"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_channel_default(data__default, custom_formats, (name_prefix or "data") + ".default")
        if "max_in_flight" in data_keys:
            data_keys.remove("max_in_flight")
            data__maxinflight = data["max_in_flight"]
            if not isinstance(data__maxinflight, (int)) and not (isinstance(data__maxinflight, float) and data__maxinflight.is_integer()) or isinstance(data__maxinflight, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__maxinflight, (int, float, Decimal)) and not isinstance(data__maxinflight, bool):
                if data__maxinflight < 1:
                    raise JsonSchemaValueException("")
                if data__maxinflight > 1000:
                    raise JsonSchemaValueException("")
        if "token" in data_keys:
            data_keys.remove("token")
            data__token = data["token"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_env_ref(data__token, custom_formats, (name_prefix or "data") + ".token")
        if "default_recipients" in data_keys:
            data_keys.remove("default_recipients")
            data__defaultrecipients = data["default_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_recipients(data__defaultrecipients, custom_formats, (name_prefix or "data") + ".default_recipients")
        if "allow_recipients" in data_keys:
            data_keys.remove("allow_recipients")
            data__allowrecipients = data["allow_recipients"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_allow_recipients(data__allowrecipients, custom_formats, (name_prefix or "data") + ".allow_recipients")
        if "api_url" in data_keys:
            data_keys.remove("api_url")
            data__apiurl = data["api_url"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_url(data__apiurl, custom_formats, (name_prefix or "data") + ".api_url")
        if "username" in data_keys:
            data_keys.remove("username")
            data__username = data["username"]
            if not isinstance(data__username, (str)):
                raise JsonSchemaValueException("")
        if "icon_emoji" in data_keys:
            data_keys.remove("icon_emoji")
            data__iconemoji = data["icon_emoji"]
            if not isinstance(data__iconemoji, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__iconemoji, str):
                if not REGEX_PATTERNS['^:[a-z0-9_+-]+:$'].search(data__iconemoji):
                    raise JsonSchemaValueException("")
        if "timeout" in data_keys:
            data_keys.remove("timeout")
            data__timeout = data["timeout"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__timeout, custom_formats, (name_prefix or "data") + ".timeout")
        if data_keys:
            raise JsonSchemaValueException("")
    return data

def validate_https___notifierd_dev_schemas_routes_schema_json___defs_settings(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if "retention_days" in data_keys:
            data_keys.remove("retention_days")
            data__retentiondays = data["retention_days"]
            if not isinstance(data__retentiondays, (int)) and not (isinstance(data__retentiondays, float) and data__retentiondays.is_integer()) or isinstance(data__retentiondays, bool):
                raise JsonSchemaValueException("")
            if isinstance(data__retentiondays, (int, float, Decimal)) and not isinstance(data__retentiondays, bool):
                if data__retentiondays < 1:
                    raise JsonSchemaValueException("")
                if data__retentiondays > 3650:
                    raise JsonSchemaValueException("")
        if "dedup_window" in data_keys:
            data_keys.remove("dedup_window")
            data__dedupwindow = data["dedup_window"]
            validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__dedupwindow, custom_formats, (name_prefix or "data") + ".dedup_window")
        if "retry" in data_keys:
            data_keys.remove("retry")
            data__retry = data["retry"]
            if not isinstance(data__retry, (dict)):
                raise JsonSchemaValueException("")
            data__retry_is_dict = isinstance(data__retry, dict)
            if data__retry_is_dict:
                data__retry_keys = set(data__retry.keys())
                if "max_retries" in data__retry_keys:
                    data__retry_keys.remove("max_retries")
                    data__retry__maxretries = data__retry["max_retries"]
                    if not isinstance(data__retry__maxretries, (int)) and not (isinstance(data__retry__maxretries, float) and data__retry__maxretries.is_integer()) or isinstance(data__retry__maxretries, bool):
                        raise JsonSchemaValueException("")
                    if isinstance(data__retry__maxretries, (int, float, Decimal)) and not isinstance(data__retry__maxretries, bool):
                        if data__retry__maxretries < 0:
                            raise JsonSchemaValueException("")
                        if data__retry__maxretries > 50:
                            raise JsonSchemaValueException("")
                if "initial_delay" in data__retry_keys:
                    data__retry_keys.remove("initial_delay")
                    data__retry__initialdelay = data__retry["initial_delay"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__retry__initialdelay, custom_formats, (name_prefix or "data") + ".retry.initial_delay")
                if "multiplier" in data__retry_keys:
                    data__retry_keys.remove("multiplier")
                    data__retry__multiplier = data__retry["multiplier"]
                    if not isinstance(data__retry__multiplier, (int, float, Decimal)) or isinstance(data__retry__multiplier, bool):
                        raise JsonSchemaValueException("")
                    if isinstance(data__retry__multiplier, (int, float, Decimal)) and not isinstance(data__retry__multiplier, bool):
                        if data__retry__multiplier < 1:
                            raise JsonSchemaValueException("")
                        if data__retry__multiplier > 10:
                            raise JsonSchemaValueException("")
                if "max_delay" in data__retry_keys:
                    data__retry_keys.remove("max_delay")
                    data__retry__maxdelay = data__retry["max_delay"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__retry__maxdelay, custom_formats, (name_prefix or "data") + ".retry.max_delay")
                if "jitter" in data__retry_keys:
                    data__retry_keys.remove("jitter")
                    data__retry__jitter = data__retry["jitter"]
                    if not isinstance(data__retry__jitter, (int, float, Decimal)) or isinstance(data__retry__jitter, bool):
                        raise JsonSchemaValueException("")
                    if isinstance(data__retry__jitter, (int, float, Decimal)) and not isinstance(data__retry__jitter, bool):
                        if data__retry__jitter < 0:
                            raise JsonSchemaValueException("")
                        if data__retry__jitter > 1:
                            raise JsonSchemaValueException("")
                if "deadline" in data__retry_keys:
                    data__retry_keys.remove("deadline")
                    data__retry__deadline = data__retry["deadline"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__retry__deadline, custom_formats, (name_prefix or "data") + ".retry.deadline")
                if data__retry_keys:
                    raise JsonSchemaValueException("")
        if "escalation" in data_keys:
            data_keys.remove("escalation")
            data__escalation = data["escalation"]
            if not isinstance(data__escalation, (dict)):
                raise JsonSchemaValueException("")
            data__escalation_is_dict = isinstance(data__escalation, dict)
            if data__escalation_is_dict:
                data__escalation_keys = set(data__escalation.keys())
                if "misfire_grace" in data__escalation_keys:
                    data__escalation_keys.remove("misfire_grace")
                    data__escalation__misfiregrace = data__escalation["misfire_grace"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__escalation__misfiregrace, custom_formats, (name_prefix or "data") + ".escalation.misfire_grace")
                if data__escalation_keys:
                    raise JsonSchemaValueException("")
        if "slack_actions" in data_keys:
            data_keys.remove("slack_actions")
            data__slackactions = data["slack_actions"]
            if not (isinstance(data__slackactions, str) and data__slackactions == 'anyone' or isinstance(data__slackactions, str) and data__slackactions == 'people_only'):
                raise JsonSchemaValueException("")
        if "runtime" in data_keys:
            data_keys.remove("runtime")
            data__runtime = data["runtime"]
            if not isinstance(data__runtime, (dict)):
                raise JsonSchemaValueException("")
            data__runtime_is_dict = isinstance(data__runtime, dict)
            if data__runtime_is_dict:
                data__runtime_keys = set(data__runtime.keys())
                if "max_silence" in data__runtime_keys:
                    data__runtime_keys.remove("max_silence")
                    data__runtime__maxsilence = data__runtime["max_silence"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__runtime__maxsilence, custom_formats, (name_prefix or "data") + ".runtime.max_silence")
                if "max_override" in data__runtime_keys:
                    data__runtime_keys.remove("max_override")
                    data__runtime__maxoverride = data__runtime["max_override"]
                    validate_https___notifierd_dev_schemas_routes_schema_json___defs_duration(data__runtime__maxoverride, custom_formats, (name_prefix or "data") + ".runtime.max_override")
                if data__runtime_keys:
                    raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data
validate = validate_https___notifierd_dev_schemas_routes_schema_json
